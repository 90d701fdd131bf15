#!/usr/bin/env python
"""Lesson 15's from-scratch U-Net against diffusers' `UNet2DConditionModel` at SD 1.5's full size (random weights,
the same in both): one call's time as a ratio in one process (medians of interleaved calls), with one thread and with
every core, and the memory one call adds on top of the weights. Batch 2 (a guided step), 64×64 latents (512 px).
Ours runs twice: as it is, and in PyTorch's channels-last memory layout (`model.to(memory_format=torch.channels_last)`
and a channels-last input), which the CPU's convolution kernels prefer.

    python tools/bench_unet.py                                # prints the figures as JSON
    python tools/bench_unet.py --out nbs/bench/unet_sd15.json # and writes them (lesson 15 shows this file)
    python tools/bench_unet.py --size 32 --runs 3             # smaller latents, fewer rounds

Not part of CI: at full size each call takes seconds on a CPU.
"""
import argparse, json, os, platform, time
import torch
from diffusers import UNet2DConditionModel
from slowdiff.unet import unet_from_diffusers
from slowdiff.support import median_times, PeakMemory, resident_bytes

SD15_UNET = dict(sample_size=64, cross_attention_dim=768)                  # diffusers' defaults are SD 1.5's blocks


def call_memory_mb(f) -> float:
    "The memory (MiB) one call of `f` adds at its peak over what the process held before it."
    before = resident_bytes()
    with PeakMemory('cpu') as peak: f()
    return peak.mb - before / 2**20


def main(size: int = 64, runs: int = 5, out: str = None):
    torch.manual_seed(0)
    lib = UNet2DConditionModel(**SD15_UNET).eval()
    ours = unet_from_diffusers(lib, copy=True).eval()
    ours_cl = unet_from_diffusers(lib, copy=True).eval().to(memory_format=torch.channels_last)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, size, size, generator=g)                       # (2, 4, s, s) latents
    c = torch.randn(2, 77, 768, generator=g)                             # (2, 77, 768) text states
    x_cl = x.to(memory_format=torch.channels_last)
    fs = {'ours': lambda: ours(x, 500, c).sample, 'ours channels-last': lambda: ours_cl(x_cl, 500, c).sample,
          'diffusers': lambda: lib(x, 500, encoder_hidden_states=c).sample}
    result = dict(machine=f"{os.cpu_count()} CPU cores, {platform.machine()}, torch {torch.__version__}",
                  latents=[2, 4, size, size], params=sum(p.numel() for p in lib.parameters()))
    with torch.no_grad():
        reference = fs['diffusers']()
        result['largest difference'] = {k: (fs[k]() - reference).abs().max().item() for k in fs if k != 'diffusers'}
        for threads in sorted({1, torch.get_num_threads()}):
            torch.set_num_threads(threads)
            start = time.time()
            t = median_times(fs, runs)
            ratios = {f'{k} / diffusers': t[k] / t['diffusers'] for k in t if k != 'diffusers'}
            result[f'{threads} thread(s)'] = {**{f'{k} s': v for k, v in t.items()}, **ratios,
                                              'wall s': time.time() - start}
        result['call memory MiB'] = {k: call_memory_mb(f) for k, f in fs.items()}
    print(json.dumps(result, indent=1))
    if out:
        tmp = f'{out}.tmp'
        with open(tmp, 'w') as f: json.dump(result, f, indent=1)
        os.replace(tmp, out)                                              # never a half-written file


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--size', type=int, default=64, help='latent height and width (64: a 512-pixel image)')
    p.add_argument('--runs', type=int, default=5, help='interleaved rounds per thread count (medians)')
    p.add_argument('--out', help='also write the figures to this JSON file')
    a = p.parse_args()
    main(a.size, a.runs, a.out)
