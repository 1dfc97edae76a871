"""Writes SIZE_MB megabytes of random integers to PATH for the even-sum benchmarks.

A 16 MB block of random ones (signs on 30 %, 1 to 19 digits, spaces and 10 % line breaks)
is written again and again; the summing speed does not depend on repetition. The file never
ends inside a number. With DIGITS, every number has that many (20: every even number is past
the 19 digits the fast paths take).

    python3 scripts/bench/even_sum_input.py SIZE_MB PATH [SEED] [DIGITS]
"""
import random
import sys


def block(seed, fixed_digits=None):
    rng = random.Random(seed)
    parts, n = [], 0
    while n < 16 * 1024 * 1024:
        digits = fixed_digits or rng.choice((1, 3, 6, 9, 12, 15, 19))
        number = str(rng.randrange(10 ** (digits - 1), 10 ** digits))
        if rng.random() < 0.3:
            number = "-" + number
        sep = "\n" if rng.random() < 0.1 else " "
        parts.append(number + sep)
        n += len(number) + 1
    return "".join(parts).encode()


def main():
    size = int(float(sys.argv[1]) * 1024 * 1024)
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    digits = int(sys.argv[4]) if len(sys.argv) > 4 else None
    data = block(seed, digits)
    with open(sys.argv[2], "wb") as out:
        written = 0
        while written < size:
            chunk = data[: size - written]
            if len(chunk) < len(data):
                chunk = chunk[: max(chunk.rfind(b" "), chunk.rfind(b"\n")) + 1]
                if not chunk:
                    break
            out.write(chunk)
            written += len(chunk)


if __name__ == "__main__":
    main()
