#!/usr/bin/env python3
"""The GPT of models/gpt.cpp trained in PyTorch eager on one GPU: the reference step time that
scripts/device-check.sh compares ScaleScope's CUDA worker with.

Same model, data and optimiser as the worker, read from the same experiment spec:
  - byte vocabulary (256), learned positions, pre-LN blocks (LayerNorm eps 1e-5), causal
    self-attention with a fused QKV projection (q, k, v in that order, heads contiguous), output
    projection, MLP C -> 4C -> C with tanh-approximated GELU, residuals, final LayerNorm, untied LM
    head without bias; mean cross-entropy over the tokens;
  - GPT-2 initialisation: N(0, 0.02) weights, N(0, 0.01) positions, residual projections
    N(0, 0.02/sqrt(2L)), zero biases, unit LayerNorm gains (the values differ: another generator);
  - AdamW (decoupled weight decay on the matrices and embeddings only; biases and LayerNorms none)
    with the spec's lr, betas, eps and weight decay; global-norm gradient clipping; linear warm-up
    then cosine decay to 0 at the last step (models/trainer.cpp learning_rate);
  - fp32 everywhere, TF32 off (cuBLAS's default math, as the worker uses);
  - batches of training.global_batch random windows of seq_len + 1 bytes of the same corpus
    (models/data.h load_text: a file verbatim, or a folder of fortune files); the windows are drawn
    by torch's generator, not the worker's, which does not change the work per step.
Each step is timed from the batch's host-to-device copy to the loss on the host (the worker's step
time covers the same work). Two attention variants are timed: "explicit" (scores, mask, softmax,
weighted sum: the worker's own algorithm) and "sdpa" (torch's fused scaled_dot_product_attention,
what idiomatic PyTorch code uses).

  python3 bench/pytorch/gpt_eager.py examples/gpt-small.json --data DIR_OR_FILE [--steps 30]
      [--batch 32] [--warmup 3] [--variants explicit,sdpa] [--json OUT.json]

Prints one human line and one JSON line ({"event":"pytorch",...}) per variant; exits 77 with
"no CUDA device: ..." when torch sees no GPU.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def load_text(path):
    """models/data.cpp load_text: a file verbatim; a folder: its regular files (not hidden, not
    *.dat / *.u8, no symbolic links) sorted by name, '%' separator lines turned into empty lines,
    each file ending in a newline."""
    if not os.path.isdir(path):
        return open(path, "rb").read()
    out = bytearray()
    names = sorted(
        n for n in os.listdir(path)
        if not n.startswith(".") and not n.endswith((".dat", ".u8"))
        and not os.path.islink(os.path.join(path, n)) and os.path.isfile(os.path.join(path, n)))
    for n in names:
        data = open(os.path.join(path, n), "rb").read()
        lines = data.split(b"\n")
        for i, line in enumerate(lines):
            if line not in (b"%", b"%\r"):
                out += line
            if i < len(lines) - 1:
                out += b"\n"
        if out and out[-1:] != b"\n":
            out += b"\n"
    return bytes(out)


class Block(nn.Module):
    def __init__(self, C, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(C, eps=1e-5)
        self.qkv = nn.Linear(C, 3 * C)
        self.proj = nn.Linear(C, C)
        self.ln2 = nn.LayerNorm(C, eps=1e-5)
        self.fc = nn.Linear(C, 4 * C)
        self.fc_proj = nn.Linear(4 * C, C)

    def attention(self, x, variant, mask):
        B, T, C = x.shape
        hs = C // self.heads
        q, k, v = self.qkv(x).split(C, dim=2)                       # (B,T,C) each
        q = q.view(B, T, self.heads, hs).transpose(1, 2)            # (B,NH,T,hs)
        k = k.view(B, T, self.heads, hs).transpose(1, 2)
        v = v.view(B, T, self.heads, hs).transpose(1, 2)
        if variant == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))  # (B,NH,T,T)
            att = att.masked_fill(mask[:T, :T], float("-inf"))
            y = F.softmax(att, dim=-1) @ v                          # (B,NH,T,hs)
        return y.transpose(1, 2).contiguous().view(B, T, C)

    def forward(self, x, variant, mask):
        x = x + self.proj(self.attention(self.ln1(x), variant, mask))
        return x + self.fc_proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Gpt(nn.Module):
    def __init__(self, vocab, seq_len, C, heads, layers, variant):
        super().__init__()
        self.variant = variant
        self.wte = nn.Embedding(vocab, C)
        self.wpe = nn.Embedding(seq_len, C)
        self.blocks = nn.ModuleList(Block(C, heads) for _ in range(layers))
        self.lnf = nn.LayerNorm(C, eps=1e-5)
        self.lm_head = nn.Linear(C, vocab, bias=False)
        self.register_buffer("mask", torch.ones(seq_len, seq_len, dtype=torch.bool).triu(1))
        proj_std = 0.02 / math.sqrt(2 * layers)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif ".ln" in name or name.startswith("lnf"):
                nn.init.ones_(p)
            elif name == "wpe.weight":
                nn.init.normal_(p, 0.0, 0.01)
            elif name.endswith(("proj.weight", "fc_proj.weight")):
                nn.init.normal_(p, 0.0, proj_std)
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, tokens, targets):
        B, T = tokens.shape
        pos = torch.arange(T, device=tokens.device)
        x = self.wte(tokens) + self.wpe(pos)
        for b in self.blocks:
            x = b(x, self.variant, self.mask)
        logits = self.lm_head(self.lnf(x))                          # (B,T,V)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))


def learning_rate(step, lr, warmup, total, schedule):
    """models/trainer.cpp learning_rate."""
    if warmup > 0 and step < warmup:
        return lr * (step + 1) / warmup
    if schedule != "cosine":
        return lr
    span = max(1, total - 1 - warmup)
    t = min(1.0, (step - warmup) / span)
    return lr * 0.5 * (1.0 + math.cos(math.pi * t))


def strict_fp32():
    """TF32 off (the defaults, made explicit): fp32 matrix products in full precision, as the
    worker's cuBLAS calls with the default math mode."""
    torch.set_float32_matmul_precision("highest")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def run(variant, spec, corpus, args, device):
    m, tr = spec["model"], spec["training"]
    V, T = 256, int(m["seq_len"])
    C, NH, L = int(m["d_model"]), int(m["heads"]), int(m["layers"])
    torch.manual_seed(int(tr.get("seed", 0)))
    model = Gpt(V, T, C, NH, L, variant).to(device)
    decay = [p for n, p in model.named_parameters()
             if n.endswith("weight") and ".ln" not in n and not n.startswith("lnf")]
    no_decay = [p for n, p in model.named_parameters()
                if not (n.endswith("weight") and ".ln" not in n and not n.startswith("lnf"))]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": float(tr.get("weight_decay", 0.0))},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=float(tr["lr"]), betas=(float(tr.get("beta1", 0.9)), float(tr.get("beta2", 0.999))),
        eps=float(tr.get("eps", 1e-8)))
    clip = float(tr.get("grad_clip", 0.0))
    B, steps = args.batch, args.steps
    gen = torch.Generator().manual_seed(int(tr.get("seed", 0)))
    offsets = torch.arange(T + 1)
    times, losses = [], []
    for step in range(steps):
        starts = torch.randint(0, corpus.numel() - T, (B,), generator=gen)
        window = corpus[starts[:, None] + offsets]                    # (B,T+1) uint8
        if device.type == "cuda":
            window = window.pin_memory()
        lr = learning_rate(step, float(tr["lr"]), int(tr.get("warmup_steps", 0)), steps,
                           tr.get("lr_schedule", "constant"))
        for g in opt.param_groups:
            g["lr"] = lr
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        w = window.to(device, non_blocking=True).long()
        loss = model(w[:, :-1], w[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(loss.item())                                   # waits for the step
        times.append(time.perf_counter() - t0)
    timed = times[args.warmup:]
    n_params = sum(p.numel() for p in model.parameters())
    return {
        "event": "pytorch", "variant": variant, "median_step_s": statistics.median(timed),
        "min_step_s": min(timed), "steps": steps, "timed_steps": len(timed), "batch": B,
        "seq_len": T, "params": n_params, "first_loss": losses[0], "last_loss": losses[-1],
        "tokens_per_s": B * T / statistics.median(timed), "torch": torch.__version__,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("spec", help="experiment spec (examples/gpt-small.json)")
    ap.add_argument("--data", help="text file or fortune folder (default: the spec's data.path)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, help="default: the spec's training.global_batch")
    ap.add_argument("--warmup", type=int, default=3, help="first steps left out of the timing")
    ap.add_argument("--variants", default="explicit,sdpa")
    ap.add_argument("--json", help="also write the results (a JSON list) here")
    ap.add_argument("--device", default="cuda",
                    help="cuda (default); cpu only to smoke-test this script without a GPU")
    args = ap.parse_args()
    spec = json.load(open(args.spec))
    if spec["model"].get("kind") != "gpt":
        sys.exit("gpt_eager.py: the spec's model.kind must be gpt")
    args.batch = args.batch or int(spec["training"]["global_batch"])
    if args.steps <= args.warmup:
        sys.exit("gpt_eager.py: --steps must exceed --warmup")
    if args.device == "cpu":
        device = torch.device("cpu")
    elif not torch.cuda.is_available():
        print("no CUDA device: torch.cuda.is_available() is False")
        return 77
    else:
        device = torch.device("cuda", 0)
        strict_fp32()
    corpus = torch.frombuffer(bytearray(load_text(args.data or spec["data"]["path"])),
                              dtype=torch.uint8)
    results = []
    for variant in args.variants.split(","):
        r = run(variant, spec, corpus, args, device)
        results.append(r)
        print(f"pytorch eager ({variant}): median step {r['median_step_s'] * 1e3:.2f} ms "
              f"(min {r['min_step_s'] * 1e3:.2f} ms) over {r['timed_steps']} steps, "
              f"{r['tokens_per_s']:.0f} tokens/s, loss {r['first_loss']:.4f} -> {r['last_loss']:.4f}, "
              f"{r['params']} params, torch {r['torch']} on {r['device']}", flush=True)
        print(json.dumps(r), flush=True)
    if args.json:
        json.dump(results, open(args.json, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
