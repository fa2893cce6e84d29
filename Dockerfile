# The hpo image: the CLI, the training code and PyTorch (CUDA build), for workers and tools:
# hpo with its train extra (torch and torchvision), installed first as their own layer.
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 HPO_CACHE_DIR=/cache
WORKDIR /app
# PyTorch first: the largest layer, rebuilt only when its version changes.
RUN pip install torch==2.14.1 torchvision==0.29.1
COPY pyproject.toml README.md ./
COPY hpo ./hpo
COPY training ./training
COPY search_spaces ./search_spaces
RUN pip install '.[train]'
ENTRYPOINT ["hpo"]
CMD ["--help"]
