"""L2-regularized logistic regression by L-BFGS, binary F1 and macro-F1, shared by the diagnostic scripts: softmax over
the labels for a multiclass task, one sigmoid per label for a multilabel one; the objective is the summed
cross-entropy + ||W||^2 / (2C), biases unregularized."""
import numpy as np
from scipy.optimize import minimize


def fit(x, y, multiclass, C, iterations=300):
    d, k = x.shape[1], y.shape[1]

    def loss_and_grad(w):
        weights, bias = w[:d * k].reshape(d, k), w[d * k:]
        prob = probabilities(x, weights, bias, multiclass)
        if multiclass:
            loss = -(np.log(prob + 1e-12) * y).sum()
        else:
            loss = -(y * np.log(prob + 1e-12) + (1 - y) * np.log(1 - prob + 1e-12)).sum()
        g = prob - y
        loss += 0.5 / C * (weights * weights).sum()
        grad_w = x.T @ g + weights / C
        return loss, np.concatenate([np.asarray(grad_w).ravel(), g.sum(0)])

    w = minimize(loss_and_grad, np.zeros(d * k + k), jac=True, method='L-BFGS-B', options={'maxiter': iterations}).x
    return w[:d * k].reshape(d, k), w[d * k:]


def probabilities(x, weights, bias, multiclass):
    z = x @ weights + bias
    if multiclass:
        z = z - z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)
    return 1 / (1 + np.exp(-z))


def f1(gold, pred):
    tp, fp, fn = (gold * pred).sum(), ((1 - gold) * pred).sum(), (gold * (1 - pred)).sum()
    return 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0


def macro_f1(gold, prob, multiclass):
    """Macro-F1 over the labels: arg-max for a multiclass task; for a multilabel one, each label at its best of
    45 thresholds from 0.02 to 0.9, tuned on the rows scored, as xlmt tunes them on dev."""
    labels = range(gold.shape[1])
    if multiclass:
        pred = np.zeros_like(prob)
        pred[np.arange(len(prob)), prob.argmax(1)] = 1
        return np.mean([f1(gold[:, j], pred[:, j]) for j in labels])
    return np.mean([max(f1(gold[:, j], (prob[:, j] >= t).astype(float)) for t in np.linspace(0.02, 0.9, 45)) for j in labels])
