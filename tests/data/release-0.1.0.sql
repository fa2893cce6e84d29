BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('v3.2.0.a');
CREATE TABLE studies (
	study_id INTEGER NOT NULL, 
	study_name VARCHAR(512) NOT NULL, 
	PRIMARY KEY (study_id)
);
INSERT INTO "studies" VALUES(1,'digits_cnn');
INSERT INTO "studies" VALUES(2,'quad-tpe-r1');
INSERT INTO "studies" VALUES(3,'quad-random-r1');
INSERT INTO "studies" VALUES(4,'quad-tpe-r2');
INSERT INTO "studies" VALUES(5,'quad-random-r2');
INSERT INTO "studies" VALUES(6,'quadgrid');
CREATE TABLE study_directions (
	study_direction_id INTEGER NOT NULL, 
	direction VARCHAR(8) NOT NULL, 
	study_id INTEGER NOT NULL, 
	objective INTEGER NOT NULL, 
	PRIMARY KEY (study_direction_id), 
	UNIQUE (study_id, objective), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO "study_directions" VALUES(1,'MAXIMIZE',1,0);
INSERT INTO "study_directions" VALUES(2,'MAXIMIZE',2,0);
INSERT INTO "study_directions" VALUES(3,'MAXIMIZE',3,0);
INSERT INTO "study_directions" VALUES(4,'MAXIMIZE',4,0);
INSERT INTO "study_directions" VALUES(5,'MAXIMIZE',5,0);
INSERT INTO "study_directions" VALUES(6,'MAXIMIZE',6,0);
CREATE TABLE study_system_attributes (
	study_system_attribute_id INTEGER NOT NULL, 
	study_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (study_system_attribute_id), 
	UNIQUE (study_id, "key"), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO "study_system_attributes" VALUES(1,1,'study:metric_names','["val_acc"]');
INSERT INTO "study_system_attributes" VALUES(2,1,'hpo:workers','1');
INSERT INTO "study_system_attributes" VALUES(3,2,'study:metric_names','["default"]');
INSERT INTO "study_system_attributes" VALUES(4,3,'study:metric_names','["default"]');
INSERT INTO "study_system_attributes" VALUES(5,4,'study:metric_names','["default"]');
INSERT INTO "study_system_attributes" VALUES(6,5,'study:metric_names','["default"]');
INSERT INTO "study_system_attributes" VALUES(7,2,'hpo:workers','1');
INSERT INTO "study_system_attributes" VALUES(8,3,'hpo:workers','1');
INSERT INTO "study_system_attributes" VALUES(9,4,'hpo:workers','1');
INSERT INTO "study_system_attributes" VALUES(10,5,'hpo:workers','1');
INSERT INTO "study_system_attributes" VALUES(11,6,'study:metric_names','["default"]');
INSERT INTO "study_system_attributes" VALUES(12,6,'hpo:workers','1');
CREATE TABLE study_user_attributes (
	study_user_attribute_id INTEGER NOT NULL, 
	study_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (study_user_attribute_id), 
	UNIQUE (study_id, "key"), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO "study_user_attributes" VALUES(1,1,'hpo:spec','{"name": "digits_cnn", "search_space": {"lr": {"_type": "loguniform", "_value": [0.001, 0.5]}, "momentum": {"_type": "uniform", "_value": [0, 0.99]}, "batch_size": {"_type": "choice", "_value": [32, 64, 128]}, "weight_decay": {"_type": "loguniform", "_value": [1e-05, 0.01]}}, "params": {"model": "simple_cnn", "dataset": "digits", "val_fraction": 0.25, "optimizer": "sgd", "nesterov": true, "lr_schedule": "cosine", "num_epochs": 4, "batch_size": 64, "lr": 0.05, "momentum": 0.9, "weight_decay": 0.0001}, "sampler": {"name": "tpe", "options": {}}, "pruner": {"name": "asha", "options": {"min_resource": 3}}, "objective": {"target": "training", "path": []}, "metrics": [{"name": "val_acc", "direction": "maximize"}], "seed": 11, "created_at": 1796130954.110365, "max_trials": 5, "max_duration_s": 1800.0, "baseline": {"lr": 0.05, "momentum": 0.9, "batch_size": 64, "weight_decay": 0.0001}, "source": "digits_cnn.json", "liveness": {"heartbeat_interval": 20, "grace_period": 120, "max_retry": 3, "checkpoint_dir": null}, "group": null, "repeat": 1, "version": 1}');
INSERT INTO "study_user_attributes" VALUES(2,1,'hpo:sampler','"tpe"');
INSERT INTO "study_user_attributes" VALUES(3,2,'hpo:spec','{"name": "quad-tpe-r1", "search_space": {"x": {"_type": "uniform", "_value": [-1, 1]}, "y": {"_type": "uniform", "_value": [-1, 1]}, "k": {"_type": "choice", "_value": [0, 1, 2]}}, "params": {"x": 0.5, "y": 0.5, "k": 1}, "sampler": {"name": "tpe", "options": {}}, "pruner": {"name": "asha", "options": {}}, "objective": {"target": "quadratic:objective", "path": ["/nonexistent/hpo-0.1.0"]}, "metrics": [{"name": "default", "direction": "maximize"}], "seed": 1330528672, "created_at": 1796130965.0881245, "max_trials": 10, "max_duration_s": null, "baseline": {"x": 0.5, "y": 0.5, "k": 1}, "source": "quad_space.json", "liveness": {"heartbeat_interval": 20, "grace_period": 120, "max_retry": 3, "checkpoint_dir": null}, "group": "quad", "repeat": 1, "version": 1}');
INSERT INTO "study_user_attributes" VALUES(4,2,'hpo:sampler','"tpe"');
INSERT INTO "study_user_attributes" VALUES(5,3,'hpo:spec','{"name": "quad-random-r1", "search_space": {"x": {"_type": "uniform", "_value": [-1, 1]}, "y": {"_type": "uniform", "_value": [-1, 1]}, "k": {"_type": "choice", "_value": [0, 1, 2]}}, "params": {"x": 0.5, "y": 0.5, "k": 1}, "sampler": {"name": "random", "options": {}}, "pruner": {"name": "asha", "options": {}}, "objective": {"target": "quadratic:objective", "path": ["/nonexistent/hpo-0.1.0"]}, "metrics": [{"name": "default", "direction": "maximize"}], "seed": 1330528672, "created_at": 1796130965.0882354, "max_trials": 10, "max_duration_s": null, "baseline": {"x": 0.5, "y": 0.5, "k": 1}, "source": "quad_space.json", "liveness": {"heartbeat_interval": 20, "grace_period": 120, "max_retry": 3, "checkpoint_dir": null}, "group": "quad", "repeat": 1, "version": 1}');
INSERT INTO "study_user_attributes" VALUES(6,3,'hpo:sampler','"random"');
INSERT INTO "study_user_attributes" VALUES(7,4,'hpo:spec','{"name": "quad-tpe-r2", "search_space": {"x": {"_type": "uniform", "_value": [-1, 1]}, "y": {"_type": "uniform", "_value": [-1, 1]}, "k": {"_type": "choice", "_value": [0, 1, 2]}}, "params": {"x": 0.5, "y": 0.5, "k": 1}, "sampler": {"name": "tpe", "options": {}}, "pruner": {"name": "asha", "options": {}}, "objective": {"target": "quadratic:objective", "path": ["/nonexistent/hpo-0.1.0"]}, "metrics": [{"name": "default", "direction": "maximize"}], "seed": 1518866815, "created_at": 1796130965.0883193, "max_trials": 10, "max_duration_s": null, "baseline": {"x": 0.5, "y": 0.5, "k": 1}, "source": "quad_space.json", "liveness": {"heartbeat_interval": 20, "grace_period": 120, "max_retry": 3, "checkpoint_dir": null}, "group": "quad", "repeat": 2, "version": 1}');
INSERT INTO "study_user_attributes" VALUES(8,4,'hpo:sampler','"tpe"');
INSERT INTO "study_user_attributes" VALUES(9,5,'hpo:spec','{"name": "quad-random-r2", "search_space": {"x": {"_type": "uniform", "_value": [-1, 1]}, "y": {"_type": "uniform", "_value": [-1, 1]}, "k": {"_type": "choice", "_value": [0, 1, 2]}}, "params": {"x": 0.5, "y": 0.5, "k": 1}, "sampler": {"name": "random", "options": {}}, "pruner": {"name": "asha", "options": {}}, "objective": {"target": "quadratic:objective", "path": ["/nonexistent/hpo-0.1.0"]}, "metrics": [{"name": "default", "direction": "maximize"}], "seed": 1518866815, "created_at": 1796130965.0884001, "max_trials": 10, "max_duration_s": null, "baseline": {"x": 0.5, "y": 0.5, "k": 1}, "source": "quad_space.json", "liveness": {"heartbeat_interval": 20, "grace_period": 120, "max_retry": 3, "checkpoint_dir": null}, "group": "quad", "repeat": 2, "version": 1}');
INSERT INTO "study_user_attributes" VALUES(10,5,'hpo:sampler','"random"');
INSERT INTO "study_user_attributes" VALUES(11,6,'hpo:spec','{"name": "quadgrid", "search_space": {"x": {"_type": "choice", "_value": [-0.5, 0.0, 0.5]}, "y": {"_type": "choice", "_value": [0.0, 0.5]}, "k": {"_type": "choice", "_value": [0, 2]}}, "params": {"x": 0.0, "y": 0.0, "k": 0}, "sampler": {"name": "grid", "options": {}}, "pruner": {"name": "asha", "options": {}}, "objective": {"target": "quadratic:objective", "path": ["/nonexistent/hpo-0.1.0"]}, "metrics": [{"name": "default", "direction": "maximize"}], "seed": 3, "created_at": 1796130970.0874753, "max_trials": 13, "max_duration_s": null, "baseline": {"x": 0.0, "y": 0.0, "k": 0}, "source": "grid_space.json", "liveness": {"heartbeat_interval": 20, "grace_period": 120, "max_retry": 3, "checkpoint_dir": null}, "group": null, "repeat": 1, "version": 1}');
INSERT INTO "study_user_attributes" VALUES(12,6,'hpo:sampler','"grid"');
INSERT INTO "study_user_attributes" VALUES(13,5,'hpo:stopped','true');
CREATE TABLE trial_heartbeats (
	trial_heartbeat_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	heartbeat DATETIME NOT NULL, 
	PRIMARY KEY (trial_heartbeat_id), 
	UNIQUE (trial_id), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_intermediate_values (
	trial_intermediate_value_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	step INTEGER NOT NULL, 
	intermediate_value FLOAT, 
	intermediate_value_type VARCHAR(7) NOT NULL, 
	PRIMARY KEY (trial_intermediate_value_id), 
	UNIQUE (trial_id, step), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_intermediate_values" VALUES(1,1,1,1.89415041782729803854e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(2,1,2,4.2618384401114206561e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(3,1,3,5.76601671309192154168e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(4,1,4,5.37604456824512522139e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(5,2,1,1.00278551532033424753e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(6,2,2,1.03064066852367686166e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(7,2,3,1.05849582172701947579e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(8,3,1,2.17270194986072417986e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(9,3,2,0.403899721448468,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(10,3,3,8.16155988857938718972e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(11,3,4,8.74651810584958222527e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(12,4,1,1.00278551532033424753e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(13,4,2,1.00278551532033424753e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(14,4,3,1.00278551532033424753e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(15,5,1,1.44846796657381621242e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(16,5,2,1.44846796657381621242e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(17,5,3,1.44846796657381621242e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(18,6,1,-3.66666666666666737905e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(19,6,2,-7.33333333333333475811e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(20,6,3,-1.1000000000000002831e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(21,10,1,-2.62970348053445823754e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(22,7,1,-3.66666666666666737905e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(23,7,2,-7.33333333333333475811e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(24,7,3,-1.1000000000000002831e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(25,11,1,-2.62970348053445823754e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(26,8,1,-3.66666666666666737905e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(27,8,2,-7.33333333333333475811e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(28,8,3,-1.1000000000000002831e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(29,12,1,-5.53111689273214773843e-03,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(30,12,2,-1.10622337854642954768e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(31,12,3,-1.65933506781964432152e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(32,9,1,-3.66666666666666737905e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(33,9,2,-7.33333333333333475811e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(34,9,3,-1.1000000000000002831e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(35,13,1,-5.53111689273214773843e-03,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(36,13,2,-1.10622337854642954768e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(37,13,3,-1.65933506781964432152e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(38,14,1,-1.2376805096562243369e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(39,15,1,-1.2376805096562243369e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(40,16,1,-3.61698695710539405712e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(41,17,1,-3.61698695710539405712e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(42,18,1,-2.12839241038017851215e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(43,19,1,-2.12839241038017851215e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(44,20,1,-7.45602444801550801045e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(45,21,1,-7.45602444801550801045e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(46,22,1,-1.59294491228168327845e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(47,23,1,-1.59294491228168327845e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(48,24,1,-1.78833705973065720806e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(49,25,1,-1.78833705973065720806e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(50,26,1,-3.99933622557957571541e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(51,26,2,-7.99867245115915143083e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(52,26,3,-1.19980086767387264523e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(53,27,1,-3.99933622557957571541e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(54,27,2,-7.99867245115915143083e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(55,27,3,-1.19980086767387264523e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(56,28,1,-3.02073140975034869215e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(57,28,2,-6.04146281950069738431e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(58,28,3,-9.06219422925104572952e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(59,29,1,-3.02073140975034869215e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(60,29,2,-6.04146281950069738431e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(61,29,3,-9.06219422925104572952e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(62,30,1,-4.14512188789648364228e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(63,31,1,-4.14512188789648364228e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(64,32,1,-1.5135006492727073879e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(65,33,1,-1.5135006492727073879e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(66,34,1,-1.38553229991412507615e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(67,35,1,-1.38553229991412507615e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(68,36,1,-1.41229893199063288866e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(69,37,1,-1.41229893199063288866e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(70,38,1,-6.19268132948579186347e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(71,39,1,-6.19268132948579186347e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(72,40,1,-4.74553292262603551576e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(73,41,1,-4.74553292262603551576e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(74,42,1,-8.76728484812824837568e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(75,43,1,-8.76728484812824837568e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(76,44,1,-7.80629116798585293013e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(77,45,1,-7.80629116798585293013e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(78,46,1,-3.16666666666666693497e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(79,46,2,-6.33333333333333386994e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(80,46,3,-9.5000000000000014988e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(81,47,1,-4.00000000000000077715e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(82,48,1,-1.5000000000000004649e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(83,48,2,-3.00000000000000092981e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(84,48,3,-4.50000000000000122124e-02,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(85,49,1,-2.40000000000000074384e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(86,50,1,-3.16666666666666693497e-02,'FINITE');
CREATE TABLE trial_params (
	param_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	param_name VARCHAR(512), 
	param_value FLOAT, 
	distribution_json TEXT, 
	PRIMARY KEY (param_id), 
	UNIQUE (trial_id, param_name), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_params" VALUES(1,1,'lr',0.05,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.001, "high": 0.5, "log": true}}');
INSERT INTO "trial_params" VALUES(2,1,'momentum',0.9,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.99, "log": false}}');
INSERT INTO "trial_params" VALUES(3,1,'batch_size',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [32, 64, 128]}}');
INSERT INTO "trial_params" VALUES(4,1,'weight_decay',0.0001,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 1e-05, "high": 0.01, "log": true}}');
INSERT INTO "trial_params" VALUES(5,2,'lr',3.42372583602528271495e-03,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.001, "high": 0.5, "log": true}}');
INSERT INTO "trial_params" VALUES(6,2,'momentum',7.59717129310108818529e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.99, "log": false}}');
INSERT INTO "trial_params" VALUES(7,2,'batch_size',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [32, 64, 128]}}');
INSERT INTO "trial_params" VALUES(8,2,'weight_decay',6.38019685306664540574e-03,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 1e-05, "high": 0.01, "log": true}}');
INSERT INTO "trial_params" VALUES(9,3,'lr',1.24397027178048735773e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.001, "high": 0.5, "log": true}}');
INSERT INTO "trial_params" VALUES(10,3,'momentum',8.76256148851338512173e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.99, "log": false}}');
INSERT INTO "trial_params" VALUES(11,3,'batch_size',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [32, 64, 128]}}');
INSERT INTO "trial_params" VALUES(12,3,'weight_decay',4.58720430335103190183e-04,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 1e-05, "high": 0.01, "log": true}}');
INSERT INTO "trial_params" VALUES(13,4,'lr',1.1196255044258718661e-02,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.001, "high": 0.5, "log": true}}');
INSERT INTO "trial_params" VALUES(14,4,'momentum',1.08921722909044380034e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.99, "log": false}}');
INSERT INTO "trial_params" VALUES(15,4,'batch_size',2.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [32, 64, 128]}}');
INSERT INTO "trial_params" VALUES(16,4,'weight_decay',3.35782835214046672736e-03,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 1e-05, "high": 0.01, "log": true}}');
INSERT INTO "trial_params" VALUES(17,5,'lr',1.7338535074324272836e-03,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.001, "high": 0.5, "log": true}}');
INSERT INTO "trial_params" VALUES(18,5,'momentum',2.71603888659063541499e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.99, "log": false}}');
INSERT INTO "trial_params" VALUES(19,5,'batch_size',2.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [32, 64, 128]}}');
INSERT INTO "trial_params" VALUES(20,5,'weight_decay',4.85302294003445839048e-05,'{"name": "FloatDistribution", "attributes": {"step": null, "low": 1e-05, "high": 0.01, "log": true}}');
INSERT INTO "trial_params" VALUES(21,6,'x',0.5,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(22,6,'y',0.5,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(23,6,'k',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(24,10,'x',-3.53561964952137541828e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(25,10,'y',9.73805243893899108442e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(26,10,'k',2.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(27,7,'x',0.5,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(28,7,'y',0.5,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(29,7,'k',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(30,11,'x',-3.53561964952137541828e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(31,11,'y',9.73805243893899108442e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(32,11,'k',2.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(33,8,'x',0.5,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(34,8,'y',0.5,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(35,8,'k',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(36,12,'x',2.58343713969715116363e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(37,12,'y',2.72383900131999201477e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(38,12,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(39,9,'x',0.5,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(40,9,'y',0.5,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(41,9,'k',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(42,13,'x',2.58343713969715116363e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(43,13,'y',2.72383900131999201477e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(44,13,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(45,14,'x',3.49255590645975777519e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(46,14,'y',-7.70491860601790312657e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(47,14,'k',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(48,15,'x',3.49255590645975777519e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(49,15,'y',-7.70491860601790312657e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(50,15,'k',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(51,16,'x',6.40265459917444434978e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(52,16,'y',-5.95557927518259866417e-02,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(53,16,'k',2.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(54,17,'x',6.40265459917444434978e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(55,17,'y',-5.95557927518259866417e-02,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(56,17,'k',2.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(57,18,'x',9.32669149895881233192e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(58,18,'y',-5.9028612891188325662e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(59,18,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(60,19,'x',9.32669149895881233192e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(61,19,'y',-5.9028612891188325662e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(62,19,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(63,20,'x',1.55381029530852865505e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(64,20,'y',7.36814080907307156209e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(65,20,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(66,21,'x',1.55381029530852865505e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(67,21,'y',7.36814080907307156209e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(68,21,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(69,22,'x',0.687829329975318,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(70,22,'y',-7.09285962432811389888e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(71,22,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(72,23,'x',0.687829329975318,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(73,23,'y',-7.09285962432811389888e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(74,23,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(75,24,'x',5.48002496760328527969e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(76,24,'y',-8.74675206948284378327e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(77,24,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(78,25,'x',5.48002496760328527969e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(79,25,'y',-8.74675206948284378327e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(80,25,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(81,26,'x',-4.58697388406559269924e-02,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(82,26,'y',3.01763279719991395211e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(83,26,'k',2.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(84,27,'x',-4.58697388406559269924e-02,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(85,27,'y',3.01763279719991395211e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(86,27,'k',2.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(87,28,'x',-1.11168436195496767027e-03,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(88,28,'y',2.41093556431304589793e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(89,28,'k',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(90,29,'x',-1.11168436195496767027e-03,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(91,29,'y',2.41093556431304589793e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(92,29,'k',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(93,30,'x',5.13800400698323223025e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(94,30,'y',-2.9659310457477938705e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(95,30,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(96,31,'x',5.13800400698323223025e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(97,31,'y',-2.9659310457477938705e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(98,31,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(99,32,'x',7.11964628485466821672e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(100,32,'y',8.54102565515651113159e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(101,32,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(102,33,'x',7.11964628485466821672e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(103,33,'y',8.54102565515651113159e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(104,33,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(105,34,'x',4.13084562579781877644e-02,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(106,34,'y',-7.35150735101882224498e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(107,34,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(108,35,'x',4.13084562579781877644e-02,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(109,35,'y',-7.35150735101882224498e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(110,35,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(111,36,'x',-3.23637689729206146083e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(112,36,'y',3.63688117086865325688e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(113,36,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(114,37,'x',-3.23637689729206146083e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(115,37,'y',3.63688117086865325688e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(116,37,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(117,38,'x',-8.76562091582342217677e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(118,38,'y',-8.83367727248684619922e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(119,38,'k',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(120,39,'x',-8.76562091582342217677e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(121,39,'y',-8.83367727248684619922e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(122,39,'k',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(123,40,'x',3.07790760452014700021e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(124,40,'y',-4.33489065924242522598e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(125,40,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(126,41,'x',3.07790760452014700021e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(127,41,'y',-4.33489065924242522598e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(128,41,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(129,42,'x',4.8046655939790960943e-02,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(130,42,'y',-0.531724715142166,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(131,42,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(132,43,'x',4.8046655939790960943e-02,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(133,43,'y',-0.531724715142166,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(134,43,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(135,44,'x',7.43841653645236355885e-02,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(136,44,'y',7.37630347774183237063e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(137,44,'k',2.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(138,45,'x',7.43841653645236355885e-02,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(139,45,'y',7.37630347774183237063e-01,'{"name": "FloatDistribution", "attributes": {"step": null, "low": -1.0, "high": 1.0, "log": false}}');
INSERT INTO "trial_params" VALUES(140,45,'k',2.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 1, 2]}}');
INSERT INTO "trial_params" VALUES(141,46,'x',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [-0.5, 0.0, 0.5]}}');
INSERT INTO "trial_params" VALUES(142,46,'y',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0, 0.5]}}');
INSERT INTO "trial_params" VALUES(143,46,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 2]}}');
INSERT INTO "trial_params" VALUES(144,47,'x',2.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [-0.5, 0.0, 0.5]}}');
INSERT INTO "trial_params" VALUES(145,47,'y',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0, 0.5]}}');
INSERT INTO "trial_params" VALUES(146,47,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 2]}}');
INSERT INTO "trial_params" VALUES(147,48,'x',2.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [-0.5, 0.0, 0.5]}}');
INSERT INTO "trial_params" VALUES(148,48,'y',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0, 0.5]}}');
INSERT INTO "trial_params" VALUES(149,48,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 2]}}');
INSERT INTO "trial_params" VALUES(150,49,'x',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [-0.5, 0.0, 0.5]}}');
INSERT INTO "trial_params" VALUES(151,49,'y',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0, 0.5]}}');
INSERT INTO "trial_params" VALUES(152,49,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 2]}}');
INSERT INTO "trial_params" VALUES(153,50,'x',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [-0.5, 0.0, 0.5]}}');
INSERT INTO "trial_params" VALUES(154,50,'y',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0, 0.5]}}');
INSERT INTO "trial_params" VALUES(155,50,'k',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0, 2]}}');
CREATE TABLE trial_system_attributes (
	trial_system_attribute_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (trial_system_attribute_id), 
	UNIQUE (trial_id, "key"), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_system_attributes" VALUES(1,1,'fixed_params','{"lr": 0.05, "momentum": 0.9, "batch_size": 64, "weight_decay": 0.0001}');
INSERT INTO "trial_system_attributes" VALUES(2,1,'completed_rung_0','0.5766016713091922');
INSERT INTO "trial_system_attributes" VALUES(3,2,'completed_rung_0','0.10584958217270195');
INSERT INTO "trial_system_attributes" VALUES(4,3,'completed_rung_0','0.8161559888579387');
INSERT INTO "trial_system_attributes" VALUES(5,4,'completed_rung_0','0.10027855153203342');
INSERT INTO "trial_system_attributes" VALUES(6,5,'completed_rung_0','0.14484679665738162');
INSERT INTO "trial_system_attributes" VALUES(7,6,'fixed_params','{"x": 0.5, "y": 0.5, "k": 1}');
INSERT INTO "trial_system_attributes" VALUES(8,7,'fixed_params','{"x": 0.5, "y": 0.5, "k": 1}');
INSERT INTO "trial_system_attributes" VALUES(9,8,'fixed_params','{"x": 0.5, "y": 0.5, "k": 1}');
INSERT INTO "trial_system_attributes" VALUES(10,9,'fixed_params','{"x": 0.5, "y": 0.5, "k": 1}');
INSERT INTO "trial_system_attributes" VALUES(11,6,'completed_rung_0','-0.036666666666666674');
INSERT INTO "trial_system_attributes" VALUES(12,6,'completed_rung_1','-0.11000000000000003');
INSERT INTO "trial_system_attributes" VALUES(13,10,'completed_rung_0','-0.2629703480534458');
INSERT INTO "trial_system_attributes" VALUES(14,7,'completed_rung_0','-0.036666666666666674');
INSERT INTO "trial_system_attributes" VALUES(15,7,'completed_rung_1','-0.11000000000000003');
INSERT INTO "trial_system_attributes" VALUES(16,11,'completed_rung_0','-0.2629703480534458');
INSERT INTO "trial_system_attributes" VALUES(17,8,'completed_rung_0','-0.036666666666666674');
INSERT INTO "trial_system_attributes" VALUES(18,8,'completed_rung_1','-0.11000000000000003');
INSERT INTO "trial_system_attributes" VALUES(19,12,'completed_rung_0','-0.005531116892732148');
INSERT INTO "trial_system_attributes" VALUES(20,12,'completed_rung_1','-0.016593350678196443');
INSERT INTO "trial_system_attributes" VALUES(21,9,'completed_rung_0','-0.036666666666666674');
INSERT INTO "trial_system_attributes" VALUES(22,9,'completed_rung_1','-0.11000000000000003');
INSERT INTO "trial_system_attributes" VALUES(23,13,'completed_rung_0','-0.005531116892732148');
INSERT INTO "trial_system_attributes" VALUES(24,13,'completed_rung_1','-0.016593350678196443');
INSERT INTO "trial_system_attributes" VALUES(25,14,'completed_rung_0','-0.12376805096562243');
INSERT INTO "trial_system_attributes" VALUES(26,15,'completed_rung_0','-0.12376805096562243');
INSERT INTO "trial_system_attributes" VALUES(27,16,'completed_rung_0','-0.03616986957105394');
INSERT INTO "trial_system_attributes" VALUES(28,17,'completed_rung_0','-0.03616986957105394');
INSERT INTO "trial_system_attributes" VALUES(29,18,'completed_rung_0','-0.21283924103801785');
INSERT INTO "trial_system_attributes" VALUES(30,19,'completed_rung_0','-0.21283924103801785');
INSERT INTO "trial_system_attributes" VALUES(31,20,'completed_rung_0','-0.07456024448015508');
INSERT INTO "trial_system_attributes" VALUES(32,21,'completed_rung_0','-0.07456024448015508');
INSERT INTO "trial_system_attributes" VALUES(33,22,'completed_rung_0','-0.15929449122816833');
INSERT INTO "trial_system_attributes" VALUES(34,23,'completed_rung_0','-0.15929449122816833');
INSERT INTO "trial_system_attributes" VALUES(35,24,'completed_rung_0','-0.17883370597306572');
INSERT INTO "trial_system_attributes" VALUES(36,25,'completed_rung_0','-0.17883370597306572');
INSERT INTO "trial_system_attributes" VALUES(37,26,'completed_rung_0','-0.03999336225579576');
INSERT INTO "trial_system_attributes" VALUES(38,26,'completed_rung_1','-0.11998008676738726');
INSERT INTO "trial_system_attributes" VALUES(39,27,'completed_rung_0','-0.03999336225579576');
INSERT INTO "trial_system_attributes" VALUES(40,27,'completed_rung_1','-0.11998008676738726');
INSERT INTO "trial_system_attributes" VALUES(41,28,'completed_rung_0','-0.030207314097503487');
INSERT INTO "trial_system_attributes" VALUES(42,28,'completed_rung_1','-0.09062194229251046');
INSERT INTO "trial_system_attributes" VALUES(43,29,'completed_rung_0','-0.030207314097503487');
INSERT INTO "trial_system_attributes" VALUES(44,29,'completed_rung_1','-0.09062194229251046');
INSERT INTO "trial_system_attributes" VALUES(45,30,'completed_rung_0','-0.041451218878964836');
INSERT INTO "trial_system_attributes" VALUES(46,31,'completed_rung_0','-0.041451218878964836');
INSERT INTO "trial_system_attributes" VALUES(47,32,'completed_rung_0','-0.15135006492727074');
INSERT INTO "trial_system_attributes" VALUES(48,33,'completed_rung_0','-0.15135006492727074');
INSERT INTO "trial_system_attributes" VALUES(49,34,'completed_rung_0','-0.1385532299914125');
INSERT INTO "trial_system_attributes" VALUES(50,35,'completed_rung_0','-0.1385532299914125');
INSERT INTO "trial_system_attributes" VALUES(51,36,'completed_rung_0','-0.1412298931990633');
INSERT INTO "trial_system_attributes" VALUES(52,37,'completed_rung_0','-0.1412298931990633');
INSERT INTO "trial_system_attributes" VALUES(53,38,'completed_rung_0','-0.6192681329485792');
INSERT INTO "trial_system_attributes" VALUES(54,39,'completed_rung_0','-0.6192681329485792');
INSERT INTO "trial_system_attributes" VALUES(55,40,'completed_rung_0','-0.047455329226260355');
INSERT INTO "trial_system_attributes" VALUES(56,41,'completed_rung_0','-0.047455329226260355');
INSERT INTO "trial_system_attributes" VALUES(57,42,'completed_rung_0','-0.08767284848128248');
INSERT INTO "trial_system_attributes" VALUES(58,43,'completed_rung_0','-0.08767284848128248');
INSERT INTO "trial_system_attributes" VALUES(59,44,'completed_rung_0','-0.07806291167985853');
INSERT INTO "trial_system_attributes" VALUES(60,45,'completed_rung_0','-0.07806291167985853');
INSERT INTO "trial_system_attributes" VALUES(61,46,'fixed_params','{"x": 0.0, "y": 0.0, "k": 0}');
INSERT INTO "trial_system_attributes" VALUES(62,46,'completed_rung_0','-0.03166666666666667');
INSERT INTO "trial_system_attributes" VALUES(63,46,'completed_rung_1','-0.09500000000000001');
INSERT INTO "trial_system_attributes" VALUES(64,47,'search_space','{"k": [0, 2], "x": [-0.5, 0.0, 0.5], "y": [0.0, 0.5]}');
INSERT INTO "trial_system_attributes" VALUES(65,47,'grid_id','0');
INSERT INTO "trial_system_attributes" VALUES(66,47,'completed_rung_0','-0.04000000000000001');
INSERT INTO "trial_system_attributes" VALUES(67,48,'search_space','{"k": [0, 2], "x": [-0.5, 0.0, 0.5], "y": [0.0, 0.5]}');
INSERT INTO "trial_system_attributes" VALUES(68,48,'grid_id','1');
INSERT INTO "trial_system_attributes" VALUES(69,48,'completed_rung_0','-0.015000000000000005');
INSERT INTO "trial_system_attributes" VALUES(70,48,'completed_rung_1','-0.04500000000000001');
INSERT INTO "trial_system_attributes" VALUES(71,49,'search_space','{"k": [0, 2], "x": [-0.5, 0.0, 0.5], "y": [0.0, 0.5]}');
INSERT INTO "trial_system_attributes" VALUES(72,49,'grid_id','2');
INSERT INTO "trial_system_attributes" VALUES(73,49,'completed_rung_0','-0.24000000000000007');
INSERT INTO "trial_system_attributes" VALUES(74,50,'search_space','{"k": [0, 2], "x": [-0.5, 0.0, 0.5], "y": [0.0, 0.5]}');
INSERT INTO "trial_system_attributes" VALUES(75,50,'grid_id','3');
INSERT INTO "trial_system_attributes" VALUES(76,50,'completed_rung_0','-0.03166666666666667');
CREATE TABLE trial_user_attributes (
	trial_user_attribute_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (trial_user_attribute_id), 
	UNIQUE (trial_id, "key"), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_user_attributes" VALUES(1,1,'hpo:baseline','true');
INSERT INTO "trial_user_attributes" VALUES(2,1,'hpo:seed','1256375587');
INSERT INTO "trial_user_attributes" VALUES(3,1,'hpo:metrics','{"epochs": 4.0, "best_epoch": 3.0, "train_seconds": 1.041089133000014, "images_per_second": 4145.658487052849, "test_acc": 0.584958217270195, "num_params": 60806.0}');
INSERT INTO "trial_user_attributes" VALUES(4,2,'hpo:seed','1054032700');
INSERT INTO "trial_user_attributes" VALUES(5,3,'hpo:seed','1982291188');
INSERT INTO "trial_user_attributes" VALUES(6,3,'hpo:metrics','{"epochs": 4.0, "best_epoch": 4.0, "train_seconds": 1.5839566900000364, "images_per_second": 2724.821977297814, "test_acc": 0.8857938718662952, "num_params": 60806.0}');
INSERT INTO "trial_user_attributes" VALUES(7,4,'hpo:seed','281170152');
INSERT INTO "trial_user_attributes" VALUES(8,5,'hpo:seed','2017466336');
INSERT INTO "trial_user_attributes" VALUES(9,6,'hpo:baseline','true');
INSERT INTO "trial_user_attributes" VALUES(10,7,'hpo:baseline','true');
INSERT INTO "trial_user_attributes" VALUES(11,8,'hpo:baseline','true');
INSERT INTO "trial_user_attributes" VALUES(12,9,'hpo:baseline','true');
INSERT INTO "trial_user_attributes" VALUES(13,46,'hpo:baseline','true');
CREATE TABLE trial_values (
	trial_value_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	objective INTEGER NOT NULL, 
	value FLOAT, 
	value_type VARCHAR(7) NOT NULL, 
	PRIMARY KEY (trial_value_id), 
	UNIQUE (trial_id, objective), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_values" VALUES(1,1,0,5.76601671309192154168e-01,'FINITE');
INSERT INTO "trial_values" VALUES(2,2,0,1.05849582172701947579e-01,'FINITE');
INSERT INTO "trial_values" VALUES(3,3,0,8.74651810584958222527e-01,'FINITE');
INSERT INTO "trial_values" VALUES(4,4,0,1.00278551532033424753e-01,'FINITE');
INSERT INTO "trial_values" VALUES(5,5,0,1.44846796657381621242e-01,'FINITE');
INSERT INTO "trial_values" VALUES(6,6,0,-1.1000000000000002831e-01,'FINITE');
INSERT INTO "trial_values" VALUES(7,10,0,-2.62970348053445823754e-01,'FINITE');
INSERT INTO "trial_values" VALUES(8,7,0,-1.1000000000000002831e-01,'FINITE');
INSERT INTO "trial_values" VALUES(9,11,0,-2.62970348053445823754e-01,'FINITE');
INSERT INTO "trial_values" VALUES(10,8,0,-1.1000000000000002831e-01,'FINITE');
INSERT INTO "trial_values" VALUES(11,12,0,-1.65933506781964432152e-02,'FINITE');
INSERT INTO "trial_values" VALUES(12,9,0,-1.1000000000000002831e-01,'FINITE');
INSERT INTO "trial_values" VALUES(13,13,0,-1.65933506781964432152e-02,'FINITE');
INSERT INTO "trial_values" VALUES(14,14,0,-1.2376805096562243369e-01,'FINITE');
INSERT INTO "trial_values" VALUES(15,15,0,-1.2376805096562243369e-01,'FINITE');
INSERT INTO "trial_values" VALUES(16,16,0,-3.61698695710539405712e-02,'FINITE');
INSERT INTO "trial_values" VALUES(17,17,0,-3.61698695710539405712e-02,'FINITE');
INSERT INTO "trial_values" VALUES(18,18,0,-2.12839241038017851215e-01,'FINITE');
INSERT INTO "trial_values" VALUES(19,19,0,-2.12839241038017851215e-01,'FINITE');
INSERT INTO "trial_values" VALUES(20,20,0,-7.45602444801550801045e-02,'FINITE');
INSERT INTO "trial_values" VALUES(21,21,0,-7.45602444801550801045e-02,'FINITE');
INSERT INTO "trial_values" VALUES(22,22,0,-1.59294491228168327845e-01,'FINITE');
INSERT INTO "trial_values" VALUES(23,23,0,-1.59294491228168327845e-01,'FINITE');
INSERT INTO "trial_values" VALUES(24,24,0,-1.78833705973065720806e-01,'FINITE');
INSERT INTO "trial_values" VALUES(25,25,0,-1.78833705973065720806e-01,'FINITE');
INSERT INTO "trial_values" VALUES(26,26,0,-1.19980086767387264523e-01,'FINITE');
INSERT INTO "trial_values" VALUES(27,27,0,-1.19980086767387264523e-01,'FINITE');
INSERT INTO "trial_values" VALUES(28,28,0,-9.06219422925104572952e-02,'FINITE');
INSERT INTO "trial_values" VALUES(29,29,0,-9.06219422925104572952e-02,'FINITE');
INSERT INTO "trial_values" VALUES(30,30,0,-4.14512188789648364228e-02,'FINITE');
INSERT INTO "trial_values" VALUES(31,31,0,-4.14512188789648364228e-02,'FINITE');
INSERT INTO "trial_values" VALUES(32,32,0,-1.5135006492727073879e-01,'FINITE');
INSERT INTO "trial_values" VALUES(33,33,0,-1.5135006492727073879e-01,'FINITE');
INSERT INTO "trial_values" VALUES(34,34,0,-1.38553229991412507615e-01,'FINITE');
INSERT INTO "trial_values" VALUES(35,35,0,-1.38553229991412507615e-01,'FINITE');
INSERT INTO "trial_values" VALUES(36,36,0,-1.41229893199063288866e-01,'FINITE');
INSERT INTO "trial_values" VALUES(37,37,0,-1.41229893199063288866e-01,'FINITE');
INSERT INTO "trial_values" VALUES(38,38,0,-6.19268132948579186347e-01,'FINITE');
INSERT INTO "trial_values" VALUES(39,39,0,-6.19268132948579186347e-01,'FINITE');
INSERT INTO "trial_values" VALUES(40,40,0,-4.74553292262603551576e-02,'FINITE');
INSERT INTO "trial_values" VALUES(41,41,0,-4.74553292262603551576e-02,'FINITE');
INSERT INTO "trial_values" VALUES(42,42,0,-8.76728484812824837568e-02,'FINITE');
INSERT INTO "trial_values" VALUES(43,43,0,-8.76728484812824837568e-02,'FINITE');
INSERT INTO "trial_values" VALUES(44,44,0,-7.80629116798585293013e-02,'FINITE');
INSERT INTO "trial_values" VALUES(45,45,0,-7.80629116798585293013e-02,'FINITE');
INSERT INTO "trial_values" VALUES(46,46,0,-0.095,'FINITE');
INSERT INTO "trial_values" VALUES(47,47,0,-4.00000000000000077715e-02,'FINITE');
INSERT INTO "trial_values" VALUES(48,48,0,-4.50000000000000122124e-02,'FINITE');
INSERT INTO "trial_values" VALUES(49,49,0,-2.40000000000000074384e-01,'FINITE');
INSERT INTO "trial_values" VALUES(50,50,0,-3.16666666666666693497e-02,'FINITE');
CREATE TABLE trials (
	trial_id INTEGER NOT NULL, 
	number INTEGER, 
	study_id INTEGER, 
	state VARCHAR(8) NOT NULL, 
	datetime_start DATETIME, 
	datetime_complete DATETIME, 
	PRIMARY KEY (trial_id), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO "trials" VALUES(1,0,1,'COMPLETE','2026-12-01 13:15:54.774304','2026-12-01 13:15:58.920848');
INSERT INTO "trials" VALUES(2,1,1,'PRUNED','2026-12-01 13:15:58.934948','2026-12-01 13:15:59.835581');
INSERT INTO "trials" VALUES(3,2,1,'COMPLETE','2026-12-01 13:15:59.841870','2026-12-01 13:16:01.643184');
INSERT INTO "trials" VALUES(4,3,1,'PRUNED','2026-12-01 13:16:01.660088','2026-12-01 13:16:02.655970');
INSERT INTO "trials" VALUES(5,4,1,'PRUNED','2026-12-01 13:16:02.663811','2026-12-01 13:16:03.378485');
INSERT INTO "trials" VALUES(6,0,2,'COMPLETE','2026-12-01 13:16:05.541242','2026-12-01 13:16:05.570870');
INSERT INTO "trials" VALUES(7,0,3,'COMPLETE','2026-12-01 13:16:05.636095','2026-12-01 13:16:05.670856');
INSERT INTO "trials" VALUES(8,0,4,'COMPLETE','2026-12-01 13:16:05.704901','2026-12-01 13:16:05.748959');
INSERT INTO "trials" VALUES(9,0,5,'COMPLETE','2026-12-01 13:16:05.903506','2026-12-01 13:16:05.968197');
INSERT INTO "trials" VALUES(10,1,2,'PRUNED','2026-12-01 13:16:05.581030','2026-12-01 13:16:05.622512');
INSERT INTO "trials" VALUES(11,1,3,'PRUNED','2026-12-01 13:16:05.678690','2026-12-01 13:16:05.698743');
INSERT INTO "trials" VALUES(12,1,4,'COMPLETE','2026-12-01 13:16:05.774434','2026-12-01 13:16:05.880545');
INSERT INTO "trials" VALUES(13,1,5,'COMPLETE','2026-12-01 13:16:05.986117','2026-12-01 13:16:06.032029');
INSERT INTO "trials" VALUES(14,2,2,'PRUNED','2026-12-01 13:16:06.047017','2026-12-01 13:16:06.084183');
INSERT INTO "trials" VALUES(15,2,3,'PRUNED','2026-12-01 13:16:06.098902','2026-12-01 13:16:06.136382');
INSERT INTO "trials" VALUES(16,2,4,'PRUNED','2026-12-01 13:16:06.150732','2026-12-01 13:16:06.188650');
INSERT INTO "trials" VALUES(17,2,5,'PRUNED','2026-12-01 13:16:06.204140','2026-12-01 13:16:06.240381');
INSERT INTO "trials" VALUES(18,3,2,'PRUNED','2026-12-01 13:16:06.255214','2026-12-01 13:16:06.304002');
INSERT INTO "trials" VALUES(19,3,3,'PRUNED','2026-12-01 13:16:06.318325','2026-12-01 13:16:06.352159');
INSERT INTO "trials" VALUES(20,3,4,'PRUNED','2026-12-01 13:16:06.366858','2026-12-01 13:16:06.428969');
INSERT INTO "trials" VALUES(21,3,5,'PRUNED','2026-12-01 13:16:06.448156','2026-12-01 13:16:06.512829');
INSERT INTO "trials" VALUES(22,4,2,'PRUNED','2026-12-01 13:16:06.537347','2026-12-01 13:16:06.651201');
INSERT INTO "trials" VALUES(23,4,3,'PRUNED','2026-12-01 13:16:06.673008','2026-12-01 13:16:06.716302');
INSERT INTO "trials" VALUES(24,4,4,'PRUNED','2026-12-01 13:16:06.731404','2026-12-01 13:16:06.805035');
INSERT INTO "trials" VALUES(25,4,5,'PRUNED','2026-12-01 13:16:06.827483','2026-12-01 13:16:06.929915');
INSERT INTO "trials" VALUES(26,5,2,'PRUNED','2026-12-01 13:16:06.947492','2026-12-01 13:16:07.026041');
INSERT INTO "trials" VALUES(27,5,3,'PRUNED','2026-12-01 13:16:07.036211','2026-12-01 13:16:07.083335');
INSERT INTO "trials" VALUES(28,5,4,'PRUNED','2026-12-01 13:16:07.094856','2026-12-01 13:16:07.144314');
INSERT INTO "trials" VALUES(29,5,5,'PRUNED','2026-12-01 13:16:07.154927','2026-12-01 13:16:07.214245');
INSERT INTO "trials" VALUES(30,6,2,'PRUNED','2026-12-01 13:16:07.224534','2026-12-01 13:16:07.264030');
INSERT INTO "trials" VALUES(31,6,3,'PRUNED','2026-12-01 13:16:07.275900','2026-12-01 13:16:07.308513');
INSERT INTO "trials" VALUES(32,6,4,'PRUNED','2026-12-01 13:16:07.318366','2026-12-01 13:16:07.352169');
INSERT INTO "trials" VALUES(33,6,5,'PRUNED','2026-12-01 13:16:07.367977','2026-12-01 13:16:07.421248');
INSERT INTO "trials" VALUES(34,7,2,'PRUNED','2026-12-01 13:16:07.439189','2026-12-01 13:16:07.509274');
INSERT INTO "trials" VALUES(35,7,3,'PRUNED','2026-12-01 13:16:07.523920','2026-12-01 13:16:07.560489');
INSERT INTO "trials" VALUES(36,7,4,'PRUNED','2026-12-01 13:16:07.575071','2026-12-01 13:16:07.616092');
INSERT INTO "trials" VALUES(37,7,5,'PRUNED','2026-12-01 13:16:07.621407','2026-12-01 13:16:07.653291');
INSERT INTO "trials" VALUES(38,8,2,'PRUNED','2026-12-01 13:16:07.678770','2026-12-01 13:16:07.744885');
INSERT INTO "trials" VALUES(39,8,3,'PRUNED','2026-12-01 13:16:07.785388','2026-12-01 13:16:07.864872');
INSERT INTO "trials" VALUES(40,8,4,'PRUNED','2026-12-01 13:16:07.898429','2026-12-01 13:16:07.924376');
INSERT INTO "trials" VALUES(41,8,5,'PRUNED','2026-12-01 13:16:07.940369','2026-12-01 13:16:08.012917');
INSERT INTO "trials" VALUES(42,9,2,'PRUNED','2026-12-01 13:16:08.035110','2026-12-01 13:16:08.072743');
INSERT INTO "trials" VALUES(43,9,3,'PRUNED','2026-12-01 13:16:08.083579','2026-12-01 13:16:08.115205');
INSERT INTO "trials" VALUES(44,9,4,'PRUNED','2026-12-01 13:16:08.132249','2026-12-01 13:16:08.180422');
INSERT INTO "trials" VALUES(45,9,5,'PRUNED','2026-12-01 13:16:08.195711','2026-12-01 13:16:08.271777');
INSERT INTO "trials" VALUES(46,0,6,'COMPLETE','2026-12-01 13:16:14.516554','2026-12-01 13:16:14.623661');
INSERT INTO "trials" VALUES(47,1,6,'PRUNED','2026-12-01 13:16:14.653552','2026-12-01 13:16:14.797292');
INSERT INTO "trials" VALUES(48,2,6,'COMPLETE','2026-12-01 13:16:14.816446','2026-12-01 13:16:14.953585');
INSERT INTO "trials" VALUES(49,3,6,'PRUNED','2026-12-01 13:16:14.981638','2026-12-01 13:16:15.070328');
INSERT INTO "trials" VALUES(50,4,6,'PRUNED','2026-12-01 13:16:15.080022','2026-12-01 13:16:15.148133');
CREATE TABLE version_info (
	version_info_id INTEGER NOT NULL, 
	schema_version INTEGER, 
	library_version VARCHAR(256), 
	PRIMARY KEY (version_info_id), 
	CHECK (version_info_id=1)
);
INSERT INTO "version_info" VALUES(1,12,'5.0.0');
CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name);
CREATE INDEX ix_trials_study_id ON trials (study_id);
COMMIT;
