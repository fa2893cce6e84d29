"""A Dr.Opt trial module as users write it: run(params) returns the metric."""

import math


def run(params):
    lr_term = abs(math.log10(params["lr"]) + 2.5) / 3
    return (
        1
        - lr_term
        - abs(params["momentum"] - 0.9) / 5
        - abs(math.log2(params["batch_size"]) - 5) / 50
    )
