.PHONY: test lint bench reader
test:
	python -m pytest
lint:
	ruff check .
bench:
	python benchmarks/quality.py
	python benchmarks/speed.py
# Retrain the shipped reader from scratch (fixed seeds; about an hour on 2 cores): pairs, training,
# int8 export into qa/weights/, then the decision model and threshold on the calibration articles.
reader:
	python training/make_pairs.py
	python training/train_reader.py --fresh
	python training/export_reader.py
	python training/calibrate.py
