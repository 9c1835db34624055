"""Update rules: ``step(params, grads, eta)`` changes params in place."""

class SGD:
    def step(self, params, grads, eta):
        for k, g in grads.items():
            params[k] -= eta * g


class Momentum:
    def __init__(self, rho):
        self.rho = rho
        self.velocity = {}

    def step(self, params, grads, eta):
        for k, g in grads.items():
            v = self.velocity.get(k)
            v = -eta * g if v is None else self.rho * v - eta * g
            self.velocity[k] = v
            params[k] += v


def build(momentum):
    return Momentum(momentum) if momentum else SGD()

