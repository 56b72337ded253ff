"""A three-layer convolutional segmenter in NumPy, with backpropagation and Adam.

Layers: 3x3 conv (3 -> w), ReLU, 3x3 conv with dilation 2 (w -> w), ReLU, 3x3 conv with
dilation 4 (w -> 2w), ReLU, 1x1 conv (2w -> classes). The receptive field is 15 x 15
pixels: enough to see a square's corners or a circle's rim from inside the shape.
Convolutions are "same"-padded and run as one matrix product over shifted copies of the
input (im2col).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Conv:
    """A "same" convolution: ``kernel`` x ``kernel`` taps ``dilation`` pixels apart."""

    weight: np.ndarray  # (kernel * kernel * c_in, c_out)
    bias: np.ndarray  # (c_out,)
    kernel: int
    dilation: int = 1

    @classmethod
    def create(
        cls, rng: np.random.Generator, c_in: int, c_out: int, kernel: int, dilation: int = 1
    ) -> Conv:
        """He-initialised weights, zero biases."""
        fan_in = kernel * kernel * c_in
        weight = rng.normal(0, np.sqrt(2.0 / fan_in), (fan_in, c_out)).astype(np.float32)
        return cls(weight, np.zeros(c_out, np.float32), kernel, dilation)

    def _columns(self, x: np.ndarray) -> np.ndarray:
        """(N, H, W, k*k*C): each pixel's neighbourhood, tap-major."""
        pad = self.dilation * (self.kernel // 2)
        if pad == 0:
            return x
        padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        height, width = x.shape[1:3]
        taps = [
            padded[:, i * self.dilation : i * self.dilation + height,
                   j * self.dilation : j * self.dilation + width]
            for i in range(self.kernel)
            for j in range(self.kernel)
        ]  # fmt: skip
        return np.concatenate(taps, axis=-1)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The output (N, H, W, c_out) and the columns the backward pass needs."""
        columns = self._columns(x)
        return columns @ self.weight + self.bias, columns

    def backward(
        self, grad_out: np.ndarray, columns: np.ndarray, input_shape: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gradients of the weight, the bias and the input."""
        flat_out = grad_out.reshape(-1, grad_out.shape[-1])
        grad_weight = columns.reshape(-1, columns.shape[-1]).T @ flat_out
        grad_bias = flat_out.sum(axis=0)
        grad_columns = grad_out @ self.weight.T
        pad = self.dilation * (self.kernel // 2)
        if pad == 0:
            return grad_weight, grad_bias, grad_columns
        n, height, width, c_in = input_shape
        grad_padded = np.zeros((n, height + 2 * pad, width + 2 * pad, c_in), grad_out.dtype)
        for tap in range(self.kernel * self.kernel):
            i, j = divmod(tap, self.kernel)
            top, left = i * self.dilation, j * self.dilation
            grad_padded[:, top : top + height, left : left + width] += grad_columns[
                ..., tap * c_in : (tap + 1) * c_in
            ]
        return grad_weight, grad_bias, grad_padded[:, pad:-pad, pad:-pad]


@dataclass
class Adam:
    """Adam over a dict of named parameters."""

    lr: float
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    steps: int = 0
    moments: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """One step, in place."""
        self.steps += 1
        for name, param in params.items():
            grad = grads[name]
            m, v = self.moments.get(name, (np.zeros_like(param), np.zeros_like(param)))
            m = self.beta1 * m + (1 - self.beta1) * grad
            v = self.beta2 * v + (1 - self.beta2) * grad * grad
            self.moments[name] = (m, v)
            m_hat = m / (1 - self.beta1**self.steps)
            v_hat = v / (1 - self.beta2**self.steps)
            param -= (self.lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(param.dtype)


class Segmenter:
    """Per-pixel class scores from an RGB image batch (N, H, W, 3)."""

    def __init__(self, rng: np.random.Generator, classes: int, width: int = 8) -> None:
        self.layers: dict[str, Conv] = {
            "conv1": Conv.create(rng, 3, width, 3),
            "conv2": Conv.create(rng, width, width, 3, dilation=2),
            "conv3": Conv.create(rng, width, 2 * width, 3, dilation=4),
            "head": Conv.create(rng, 2 * width, classes, 1),
        }

    def parameters(self) -> dict[str, np.ndarray]:
        """Every weight and bias by name (``conv1.weight``, ...), as live arrays."""
        params: dict[str, np.ndarray] = {}
        for name, layer in self.layers.items():
            params[f"{name}.weight"] = layer.weight
            params[f"{name}.bias"] = layer.bias
        return params

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (N, H, W, classes)."""
        return softmax(self._forward(images)[0])

    def _forward(self, images: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        x = images - 0.5
        cache: list[np.ndarray] = []
        for name, layer in self.layers.items():
            cache.append(x)
            x, columns = layer.forward(x)
            cache.append(columns)
            if name != "head":
                x = np.maximum(x, 0)
        return x, cache

    def loss_and_grads(
        self, images: np.ndarray, masks: np.ndarray, class_weights: np.ndarray
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Weighted pixel cross-entropy and the gradient of every parameter."""
        logits, cache = self._forward(images)
        probs = softmax(logits)
        weights = class_weights[masks]
        total = weights.sum()
        picked = np.take_along_axis(probs, masks[..., None].astype(np.intp), axis=-1)[..., 0]
        loss = float(-(weights * np.log(picked + 1e-9)).sum() / total)
        grad = probs.copy()
        np.put_along_axis(grad, masks[..., None].astype(np.intp), picked[..., None] - 1, -1)
        grad *= (weights / total)[..., None]
        grads: dict[str, np.ndarray] = {}
        names = list(self.layers)
        for index in reversed(range(len(names))):
            name = names[index]
            layer_input, columns = cache[2 * index], cache[2 * index + 1]
            grad_w, grad_b, grad = self.layers[name].backward(grad, columns, layer_input.shape)
            grads[f"{name}.weight"], grads[f"{name}.bias"] = grad_w, grad_b
            if index > 0:
                grad = grad * (layer_input > 0)  # the ReLU that produced this layer's input
        return loss, grads


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    result: np.ndarray = shifted / shifted.sum(axis=-1, keepdims=True)
    return result
