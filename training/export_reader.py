"""Export a trained reader to the int8 ONNX file that docqa ships (the embedder's recipe:
opset 17, dynamic batch and length, per-channel int8 weights).

    python training/export_reader.py --run training/runs/reader --out qa/weights
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training.train_reader import Reader, load_encoder  # noqa: E402


def export(run: Path, out: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    meta = json.loads((run / "train.json").read_text())
    encoder, hidden = load_encoder(meta["layers"])
    model = Reader(encoder, hidden)
    model.load_state_dict(torch.load(run / "reader.pt", weights_only=True))
    model.eval()
    example = (torch.ones((2, 16), dtype=torch.long),) * 3
    out.mkdir(parents=True, exist_ok=True)
    target = out / "reader.onnx"
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "reader-fp32.onnx"
        axes = {0: "batch", 1: "tokens"}
        torch.onnx.export(model, example, str(plain), dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["answers", "start", "end"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                                        "answers": {0: "batch"}, "start": axes, "end": axes})
        quantized = Path(tmp) / "reader.onnx"
        quantize_dynamic(str(plain), str(quantized), per_channel=True, weight_type=QuantType.QInt8)
        shutil.copyfile(quantized, target)
    print(f"{target}: {target.stat().st_size / 2**20:.1f} MiB")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=ROOT / "training" / "runs" / "reader")
    parser.add_argument("--out", type=Path, default=ROOT / "qa" / "weights")
    args = parser.parse_args()
    export(args.run, args.out)


if __name__ == "__main__":
    main()
