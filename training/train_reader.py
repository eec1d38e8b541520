"""Train docqa's reader: a cross-encoder over (question, sentence) that says whether the sentence
answers and where the short answer is. Starts from the bundled all-MiniLM-L6-v2 weights.

    python training/train_reader.py --pairs training/runs/pairs.jsonl --out training/runs/reader

Checkpoints go to OUT/checkpoint.pt every --save-every steps; run the same command again to resume.
A fixed --seed makes a run from scratch repeatable (same order, same initial heads).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MAX_TOKENS = 128


class Reader(nn.Module):
    """BERT encoder, an answers/does-not logit on [CLS], start and end logits on every token."""

    def __init__(self, encoder: nn.Module, hidden: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.answers = nn.Linear(hidden, 1)
        self.span = nn.Linear(hidden, 2)

    def forward(self, input_ids, attention_mask, token_type_ids):
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
        logit = self.answers(states[:, 0]).squeeze(-1)
        start, end = self.span(states).unbind(-1)
        return logit, start, end


def load_encoder(layers: int) -> tuple[nn.Module, int]:
    from transformers import BertModel

    from qa.tokenizer import resolve_model_dir

    model = BertModel.from_pretrained(str(resolve_model_dir("all-MiniLM-L6-v2")), add_pooling_layer=False)
    model.encoder.layer = model.encoder.layer[:layers]
    model.config.num_hidden_layers = layers
    return model, model.config.hidden_size


def load_tokenizer():
    from tokenizers import Tokenizer

    from qa.tokenizer import resolve_model_dir

    tok = Tokenizer.from_file(str(resolve_model_dir("all-MiniLM-L6-v2") / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_TOKENS, strategy="longest_first")
    return tok


def encode(tok, pairs: list[dict]) -> list[tuple[list[int], list[int], int, int, int]]:
    """(ids, type ids, label, start token, end token); a span that truncation cut is dropped."""
    out = []
    encodings = tok.encode_batch([(p["q"], p["s"]) for p in pairs])
    for p, e in zip(pairs, encodings, strict=True):
        start = end = 0
        if p["label"] and p.get("span"):
            a, b = p["span"]
            inside = [i for i, (seq, (x, y)) in enumerate(zip(e.sequence_ids, e.offsets, strict=True))
                      if seq == 1 and y > a and x < b]
            if inside:
                start, end = inside[0], inside[-1]
        out.append((e.ids, e.type_ids, int(p["label"]), start, end))
    return out


def batches(data: list, size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffled batches of similar length (little padding), in a fixed order for a seed and epoch."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(data)))
    rng.shuffle(order)
    out = []
    for at in range(0, len(order), size * 50):
        block = sorted(order[at:at + size * 50], key=lambda i: len(data[i][0]))
        out.extend(block[j:j + size] for j in range(0, len(block), size))
    rng.shuffle(out)
    return out


def collate(data: list, batch: list[int]):
    width = max(len(data[i][0]) for i in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for row, i in enumerate(batch):
        n = len(data[i][0])
        ids[row, :n] = torch.tensor(data[i][0])
        types[row, :n] = torch.tensor(data[i][1])
        mask[row, :n] = 1
    label = torch.tensor([data[i][2] for i in batch], dtype=torch.float)
    start = torch.tensor([data[i][3] for i in batch])
    end = torch.tensor([data[i][4] for i in batch])
    return ids, mask, types, label, start, end


def span_mask(types: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Where a span may start or end: the sentence's tokens, and [CLS] for "no answer"."""
    allowed = (types == 1) & (mask == 1)
    allowed[:, 0] = True
    return allowed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=ROOT / "training" / "runs" / "pairs.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "training" / "runs" / "reader")
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=6e-5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--save-every", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="start from scratch, not the checkpoint")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    pairs = [json.loads(line) for line in args.pairs.open(encoding="utf-8")]
    tok = load_tokenizer()
    data = encode(tok, pairs)
    spans = sum(1 for d in data if d[2] and d[3])
    print(f"{len(data)} pairs, {sum(d[2] for d in data)} positive ({spans} with a span), "
          f"mean {np.mean([len(d[0]) for d in data]):.1f} tokens", flush=True)
    encoder, hidden = load_encoder(args.layers)
    model = Reader(encoder, hidden)
    per_epoch = math.ceil(len(data) / args.batch)
    total = int(per_epoch * args.epochs)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
    step, seconds = 0, 0.0
    checkpoint = args.out / "checkpoint.pt"
    if args.fresh:
        checkpoint.unlink(missing_ok=True)
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        schedule.load_state_dict(state["schedule"])
        step, seconds = state["step"], state["seconds"]
        print(f"resumed at step {step}/{total}", flush=True)
    bce = nn.BCEWithLogitsLoss()
    ce = nn.CrossEntropyLoss()
    model.train()
    began = time.time() - seconds
    seen_loss = []
    while step < total:
        epoch, at = divmod(step, per_epoch)
        order = batches(data, args.batch, args.seed, epoch)
        for batch in order[at:]:
            if step >= total:
                break
            ids, mask, types, label, start, end = collate(data, batch)
            logit, s_logits, e_logits = model(ids, mask, types)
            allowed = span_mask(types, mask)
            s_logits = s_logits.masked_fill(~allowed, -1e4)
            e_logits = e_logits.masked_fill(~allowed, -1e4)
            loss = bce(logit, label) + 0.5 * (ce(s_logits, start) + ce(e_logits, end))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            seen_loss.append(loss.item())
            if step % 20 == 0:
                elapsed = time.time() - began
                print(f"step {step}/{total} loss {np.mean(seen_loss[-20:]):.4f} "
                      f"{step * args.batch / elapsed:.1f} pairs/s {elapsed / 60:.1f} min", flush=True)
            if step % args.save_every == 0 or step == total:
                torch.save({"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                            "schedule": schedule.state_dict(), "step": step,
                            "seconds": time.time() - began}, checkpoint.with_suffix(".tmp"))
                checkpoint.with_suffix(".tmp").replace(checkpoint)
    torch.save(model.state_dict(), args.out / "reader.pt")
    meta = {"layers": args.layers, "pairs": len(data), "epochs": args.epochs, "steps": total,
            "batch": args.batch, "lr": args.lr, "seed": args.seed, "max_tokens": MAX_TOKENS,
            "minutes": round((time.time() - began) / 60, 1)}
    (args.out / "train.json").write_text(json.dumps(meta, indent=2))
    print(f"done: {meta}", flush=True)


if __name__ == "__main__":
    main()
