#!/usr/bin/env bash
# CI-sized proof that the training recipe works end to end, in well under a minute: the model self-checks
# (test_rwkv7.py), then
# corpus prep (1 novel, ~30 k chars) -> SentencePiece tokenizer (vocab 512) -> 3 training steps of a
# 2-layer, width-64 RWKV-7 -> resume for a 4th step -> export (f16 .pth, tokenizer, parity, report) ->
# reload with torch.load and re-check the parity logits.
#
# With WB (the built wb tool) it then does the same for the MIDI recipe: 8 tunes of cre-irish-dance tokenized
# by `wb midi tokenize --ids` -> 3 steps -> export (parity on held-out tunes, sample .mid files) -> reload.
#
#   scripts/train/smoke_test.sh WORK_DIR [CORPORA_DIR [WB]]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?work dir}
corpora=${2:-$here/../../../shared/corpora}
py=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
"$py" "$here/test_rwkv7.py"
rm -rf "$work"
mkdir -p "$work"
"$py" "$here/prepare_corpus.py" --corpora "$corpora" --out "$work/text" --max-docs 1 --max-chars 30000 --val-frac 0.1
"$here/train_tokenizer.sh" "$work/text/tokenizer-input.txt" "$work/tiny" 512
common=(--run "$work/run" --text-dir "$work/text" --tokenizer "$work/tiny.model" --n-layer 2 --n-embd 64
        --ctx 32 --batch 2 --warmup 2 --val-every 2 --val-tokens 256 --log-every 1 --threads 1)
"$py" "$here/train.py" "${common[@]}" --max-steps 3
"$py" "$here/train.py" "${common[@]}" --max-steps 4 --resume | tee "$work/resume.txt"
grep -q "resumed from .* at step 3" "$work/resume.txt"
"$py" "$here/export.py" --run "$work/run" --out "$work/out" --name tiny --tokenizer "$work/tiny.model" \
  --text-dir "$work/text" --sample-tokens 8
"$py" "$here/check_export.py" "$work/out" tiny
test -s "$work/out/tiny-report.md"
wb=${3:-}
if [ -n "$wb" ]; then
  "$py" "$here/prepare_midi.py" --wb "$wb" --midi-dir "$corpora/midi/cre-irish-dance/mid" --run "$work/midi" \
    --max-files 8 --val-every 4
  midi=(--run "$work/midi" --tokens-ready 20096 --n-layer 2 --n-embd 64 --ctx 32 --batch 2 --warmup 2
        --val-every 2 --val-tokens 256 --log-every 1 --threads 1)
  "$py" "$here/train.py" "${midi[@]}" --max-steps 3
  "$py" "$here/export.py" --run "$work/midi" --out "$work/out" --name tinymidi --midi-dir "$corpora/midi/cre-irish-dance/mid" \
    --wb "$wb" --sample-tokens 16
  "$py" "$here/check_export.py" "$work/out" tinymidi
  test -s "$work/out/tinymidi-sample-1.mid"
  grep -q "bits per token" "$work/out/tinymidi-report.md"
fi
echo "smoke_test: OK"
