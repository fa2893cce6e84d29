"""How long the analysis commands take on big studies: 1,000 and 10,000 trials.

For each size, a comparison group of two studies (random and TPE, half the trials each) is
filled with synthetic complete trials (4 parameters, a known objective) in a SQLite file,
then the work of ``hpo compare`` (load every trial, summarise, the rank test) and of
``hpo importance`` (PED-ANOVA and fANOVA with 20 half-samples, per tuner) and of ``hpo report``
(both of those again, the figures, and the HTML file) is timed, in this process, storage
reads included.

    python bench/analysis_scale.py [--sizes 1000,10000] [--bootstrap 20]
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SPACE = {
    "lr": {"_type": "loguniform", "_value": [1e-4, 1.0]},
    "momentum": {"_type": "uniform", "_value": [0.0, 0.99]},
    "batch_size": {"_type": "choice", "_value": [16, 32, 64, 128, 256]},
    "weight_decay": {"_type": "loguniform", "_value": [1e-6, 1e-2]},
}


def fill(
    url: str, trials_per_study: int, samplers: tuple[str, ...] = ("random", "tpe")
) -> list[str]:
    """A group "scale" of one study per sampler, each with ``trials_per_study`` trials."""
    import datetime

    import optuna

    from hpo.storage import open_storage
    from hpo.study import Overrides, build_group, create_study, parse_config

    config = parse_config(
        {
            "config": {"experimentName": "scale", "objective": "training"},
            "params": {"dataset": "digits", "model": "simple_cnn"},
            "search_space": SPACE,
        }
    )
    _, specs, _ = build_group(config, Overrides(seed=1), list(samplers), 1)
    storage = open_storage(url)
    for spec in specs:
        create_study(storage, spec)
    rng = random.Random(0)
    start = datetime.datetime(2026, 1, 1)
    for spec in specs:
        study = optuna.load_study(study_name=spec.name, storage=storage)
        distributions = spec.space.distributions()
        batch = []
        for n in range(trials_per_study):
            params = {name: d.to_external_repr(_draw(rng, d)) for name, d in distributions.items()}
            lr = params["lr"]
            value = 0.9 - 0.05 * abs(math.log10(lr) + 1.5) + 0.02 * params["momentum"]
            trial = optuna.trial.create_trial(
                params=params, distributions=distributions, value=value + rng.gauss(0, 0.005)
            )
            # Ten seconds apart, nine of them training: the compute compare adds up.
            trial.datetime_start = start + datetime.timedelta(seconds=10 * n)
            trial.datetime_complete = trial.datetime_start + datetime.timedelta(seconds=9)
            batch.append(trial)
        study.add_trials(batch)
    return [s.name for s in specs]


def _draw(rng: random.Random, distribution: object) -> float:
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    if isinstance(distribution, CategoricalDistribution):
        return float(rng.randrange(len(distribution.choices)))
    assert isinstance(distribution, FloatDistribution)
    if distribution.log:
        return math.exp(rng.uniform(math.log(distribution.low), math.log(distribution.high)))
    return rng.uniform(distribution.low, distribution.high)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000", help="trials per group")
    parser.add_argument("--bootstrap", type=int, default=20)
    args = parser.parse_args()
    logging.getLogger("optuna").setLevel(logging.WARNING)
    import platform

    from hpo.analysis import compare, importance_by_tuner, load_trials, resolve_studies, runs_from
    from hpo.analysis.report import write_report
    from hpo.storage import open_storage

    print(f"machine: {platform.machine()}; SQLite; bootstrap {args.bootstrap}")
    print(f"{'trials':>7} {'fill s':>8} {'compare s':>10} {'importance s':>13} {'report s':>9}")
    last: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            url = f"sqlite:///{Path(tmp) / f'scale-{size}.db'}"
            began = time.perf_counter()
            fill(url, size // 2)
            filled = time.perf_counter() - began
            storage = open_storage(url)
            began = time.perf_counter()
            specs = resolve_studies(storage, ["scale"])
            compare(runs_from(specs, load_trials(storage, specs)), target=0.88)
            compared = time.perf_counter() - began
            began = time.perf_counter()
            specs = resolve_studies(storage, ["scale"])
            importance_by_tuner(specs, load_trials(storage, specs), bootstrap=args.bootstrap)
            assessed = time.perf_counter() - began
            began = time.perf_counter()
            write_report(storage, ["scale"], Path(tmp) / f"report-{size}", bootstrap=args.bootstrap)
            reported = time.perf_counter() - began
            print(
                f"{size:>7} {filled:>8.1f} {compared:>10.2f} {assessed:>13.2f} {reported:>9.2f}",
                flush=True,
            )
            last = {"size": size, "compare": compared, "importance": assessed, "report": reported}
    print(
        f"{last['size']} trials: compare {last['compare']:.2f} s, "
        f"importance {last['importance']:.2f} s, report {last['report']:.2f} s"
    )


if __name__ == "__main__":
    main()
