# `make demo`: the quick preset of the SynthRooms table (configs/benchmarks/synthrooms_cpu.py):
# the same methods at demo budgets, under 20 minutes on 2 cores from a fresh clone (SynthRooms
# generation and the teacher's training included).
_base_ = ['./synthrooms_cpu.py']
budget_s = 45
seeds = 2
num_evals = 1
