"""The objective of the release fixture's function studies: a quadratic with a known optimum."""


def objective(params, report):
    value = -((params["x"] - 0.3) ** 2) - 0.5 * (params["y"] - 0.1) ** 2 + 0.01 * params["k"]
    for epoch in range(1, 4):
        report(value * epoch / 3, epoch)
    return value
