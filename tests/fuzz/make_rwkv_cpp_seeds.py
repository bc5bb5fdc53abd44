# Writes the small seed files of tests/fuzz/corpus/rwkv_cpp_file/ (tiny random
# v4/v5.2/v7 models and broken headers). Run: python3 make_rwkv_cpp_seeds.py corpus/rwkv_cpp_file
import struct, random, os, sys
out = sys.argv[1]
random.seed(7)
def hdr(ver=101, V=4, C=4, L=1, ft=0): return struct.pack('<6I', 0x67676d66, ver, V, C, L, ft)
def rec(name, shape, code=0, data=None):
    ne = list(reversed(shape))
    n = 1
    for d in shape: n *= d
    if data is None:
        if code == 0: data = struct.pack('<%df' % n, *[random.uniform(-0.5, 0.5) for _ in range(n)])
        elif code == 1: data = struct.pack('<%de' % n, *[random.uniform(-0.5, 0.5) for _ in range(n)])
        elif code == 7: data = b''.join(struct.pack('<e', 0.05) + os.urandom(20) for _ in range(n // 32))
    return struct.pack('<3I', len(shape), len(name), code) + struct.pack('<%dI' % len(ne), *ne) + name.encode() + data
def common(V, C):
    return [('emb.weight', (V, C)), ('blocks.0.ln0.weight', (C,)), ('blocks.0.ln0.bias', (C,)),
            ('ln_out.weight', (C,)), ('ln_out.bias', (C,)), ('head.weight', (V, C))]
def block(i, C, names):
    return [(f'blocks.{i}.{n}', s) for n, s in names]
def v4(V=4, C=4, F=8, L=1):
    t = common(V, C)
    for i in range(L):
        t += block(i, C, [('ln1.weight', (C,)), ('ln1.bias', (C,)), ('ln2.weight', (C,)), ('ln2.bias', (C,)),
            ('att.time_mix_k', (C,)), ('att.time_mix_v', (C,)), ('att.time_mix_r', (C,)),
            ('att.time_first', (C,)), ('att.time_decay', (C,)),
            ('att.key.weight', (C, C)), ('att.value.weight', (C, C)), ('att.receptance.weight', (C, C)), ('att.output.weight', (C, C)),
            ('ffn.time_mix_k', (C,)), ('ffn.time_mix_r', (C,)), ('ffn.key.weight', (F, C)), ('ffn.value.weight', (C, F)), ('ffn.receptance.weight', (C, C))])
    return t
def v7(V=4, C=4, H=1, D=2, F=8, L=2):
    t = common(V, C)
    for i in range(L):
        names = [('ln1.weight', (C,)), ('ln1.bias', (C,)), ('ln2.weight', (C,)), ('ln2.bias', (C,)),
            ('att.x_rwkvag', (6, 1, C)), ('att.w0', (1, 1, C)), ('att.a0', (1, 1, C)), ('att.k_k', (1, 1, C)), ('att.k_a', (1, 1, C)),
            ('att.r_k', (H, C // H)), ('att.w1', (D, C)), ('att.w2', (C, D)), ('att.a1', (D, C)), ('att.a2', (C, D)),
            ('att.g1', (D, C)), ('att.g2', (C, D)),
            ('att.key.weight', (C, C)), ('att.value.weight', (C, C)), ('att.receptance.weight', (C, C)), ('att.output.weight', (C, C)),
            ('att.ln_x.weight', (C,)), ('att.ln_x.bias', (C,)), ('ffn.x_k', (1, 1, C)), ('ffn.key.weight', (F, C)), ('ffn.value.weight', (C, F))]
        if i > 0: names += [('att.v0', (1, 1, C)), ('att.v1', (D, C)), ('att.v2', (C, D))]
        t += block(i, C, names)
    return t
def v52(V=2, C=4, H=2, F=4, L=1):
    t = common(V, C)
    for i in range(L):
        t += block(i, C, [('ln1.weight', (C,)), ('ln1.bias', (C,)), ('ln2.weight', (C,)), ('ln2.bias', (C,)),
            ('att.time_mix_k', (C,)), ('att.time_mix_v', (C,)), ('att.time_mix_r', (C,)), ('att.time_mix_g', (C,)),
            ('att.time_faaaa', (H, C // H, 1)), ('att.time_decay', (H, C // H, 1)),
            ('att.key.weight', (C, C)), ('att.value.weight', (C, C)), ('att.receptance.weight', (C, C)), ('att.output.weight', (C, C)),
            ('att.gate.weight', (C, C)), ('att.ln_x.weight', (C,)), ('att.ln_x.bias', (C,)),
            ('ffn.time_mix_k', (C,)), ('ffn.time_mix_r', (C,)), ('ffn.key.weight', (F, C)), ('ffn.value.weight', (C, F)), ('ffn.receptance.weight', (C, C))])
    return t
def v6(V=2, C=4, H=2, D=1, Dw=1, F=4, L=1):
    t = common(V, C)
    for i in range(L):
        t += block(i, C, [('ln1.weight', (C,)), ('ln1.bias', (C,)), ('ln2.weight', (C,)), ('ln2.bias', (C,))]
            + [('att.time_maa_' + k, (C,)) for k in 'xwkvrg']
            + [('att.time_maa_w1', (5 * D, C)), ('att.time_maa_w2', (5, C, D)), ('att.time_decay', (H, C // H, 1)),
               ('att.time_decay_w1', (Dw, C)), ('att.time_decay_w2', (C, Dw)), ('att.time_faaaa', (H, C // H, 1)),
               ('att.receptance.weight', (C, C)), ('att.key.weight', (C, C)), ('att.value.weight', (C, C)),
               ('att.output.weight', (C, C)), ('att.gate.weight', (C, C)), ('att.ln_x.weight', (C,)), ('att.ln_x.bias', (C,)),
               ('ffn.time_maa_k', (C,)), ('ffn.time_maa_r', (C,)), ('ffn.key.weight', (F, C)),
               ('ffn.receptance.weight', (C, C)), ('ffn.value.weight', (C, F))])
    return t
def model(tensors, **kw):
    return hdr(**kw) + b''.join(rec(n, s) for n, s in tensors)
files = {
    'v4_tiny.bin': model(v4(), V=4, C=4, L=1),
    'v7_tiny.bin': model(v7(V=2, D=1, F=4), V=2, C=4, L=2),
    'v5_2_tiny.bin': model(v52(), V=2, C=4, L=1),
    'v6_tiny.bin': model(v6(), V=2, C=4, L=1),
    'header_only.bin': hdr(),
    'truncated_record.bin': model(v4())[:24 + 30],
    'q5_0_tensor.bin': hdr() + rec('blocks.0.att.key.weight', (2, 32), 7),
    'f16_tensor.bin': hdr() + rec('emb.weight', (4, 4), 1),
    'huge_claim.bin': hdr() + struct.pack('<5I', 2, 10, 0, 1000000, 1000000) + b'emb.weight',
    'ndims4.bin': hdr() + struct.pack('<7I', 4, 1, 0, 1, 1, 1, 1) + b'x' + b'\0' * 4,
}
for n, b in files.items():
    assert len(b) < 4096, (n, len(b))
    open(os.path.join(out, n), 'wb').write(b)
    print(n, len(b), flush=True)
