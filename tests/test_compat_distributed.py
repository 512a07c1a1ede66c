"""compute_average_loss in data-parallel training: the replicas' gradients combine into the
single-process full-batch gradient. PyTorch DDP (2 processes, gloo on loopback) averages gradients,
so each replica multiplies its loss by the world size; JAX ``psum`` sums them, so it is used as is."""

import socket

import numpy as np
import pytest

from regloss.compat.keras2 import compute_average_loss

WORLD_SIZE = 2


def _data():
    rng = np.random.default_rng(7)
    features = rng.normal(size=(8, 3)).astype(np.float32)
    targets = rng.normal(size=(8, 2)).astype(np.float32)
    weights = rng.uniform(0.0, 1.0, size=(3, 2)).astype(np.float32)
    return features, targets, weights


def _per_example_loss(torch, model, features, targets):
    return ((model(features) - targets) ** 2).mean(dim=-1)


def _replica(rank, port, result_queue):
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD_SIZE)
    try:
        features, targets, weights = _data()
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 2, bias=False)
        with torch.no_grad():
            model.weight.copy_(torch.from_numpy(weights.T))
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        shard = slice(rank * 4, rank * 4 + 4)
        x, y = torch.from_numpy(features[shard]), torch.from_numpy(targets[shard])
        local = _per_example_loss(torch, ddp, x, y)
        loss = compute_average_loss(local, num_replicas=WORLD_SIZE) * WORLD_SIZE  # DDP averages
        loss.backward()
        if rank == 0:
            result_queue.put(model.weight.grad.numpy().copy())
        # both ranks leave together: a rank tearing gloo down while the other still talks to it
        # aborted once in CI ("terminate called without an active exception", SIGABRT)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_torch_ddp_gradient_equals_full_batch_gradient():
    torch = pytest.importorskip("torch")
    if not torch.distributed.is_available():
        pytest.skip("torch.distributed is not available")
    import torch.multiprocessing as mp

    context = mp.get_context("spawn")
    queue = context.SimpleQueue()
    mp.start_processes(_replica, args=(_free_port(), queue), nprocs=WORLD_SIZE, start_method="spawn")
    distributed = queue.get()

    features, targets, weights = _data()
    model = torch.nn.Linear(3, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(weights.T))
    full = _per_example_loss(torch, model, torch.from_numpy(features), torch.from_numpy(targets)).mean()
    full.backward()
    np.testing.assert_allclose(distributed, model.weight.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_jax_psum_gradient_equals_full_batch_gradient():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    features, targets, weights = _data()

    def replica_loss(w, x, y):
        per_example = jnp.mean((x @ w - y) ** 2, axis=-1)
        return compute_average_loss(per_example, num_replicas=WORLD_SIZE)

    def replica_gradient(w, x, y):
        return jax.lax.psum(jax.grad(replica_loss)(w, x, y), axis_name="replicas")

    shards = features.reshape(WORLD_SIZE, 4, 3), targets.reshape(WORLD_SIZE, 4, 2)
    summed = jax.vmap(replica_gradient, in_axes=(None, 0, 0), axis_name="replicas")(weights, *shards)[0]
    full = jax.grad(lambda w: jnp.mean(jnp.mean((features @ w - targets) ** 2, axis=-1)))(weights)
    np.testing.assert_allclose(np.asarray(summed), np.asarray(full), rtol=1e-5, atol=1e-7)
