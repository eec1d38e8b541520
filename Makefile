.PHONY: test lint bench
test:
	python -m pytest
lint:
	ruff check .
bench:
	python benchmarks/quality.py
	python benchmarks/speed.py
