#!/usr/bin/env bash
# Trains the SentencePiece tokenizer of the prose + dialogue model with Debian's spm_train.
#
#   scripts/train/train_tokenizer.sh INPUT.txt OUT_PREFIX [VOCAB_SIZE]
#   -> OUT_PREFIX.model, OUT_PREFIX.vocab
#
# INPUT is one paragraph per line (prepare_corpus.py writes tokenizer-input.txt).
# Choices, and why:
# * unigram: SentencePiece's default; its Viterbi segmentation compresses English prose a little better
#   than BPE at small vocabularies and libsentencepiece (the C++ side) handles it natively.
# * byte_fallback: any UTF-8 text encodes (unknown characters become <0xNN> byte pieces, never <unk>);
#   the newline itself is encoded as the byte piece <0x0A>, so paragraphs and `Name: line` turns survive.
# * identity normalisation and no whitespace squeezing: encode(decode(x)) is the text itself, and the
#   training pipeline and the C++ runtime see exactly the same ids for the same string.
# * no dummy prefix: encode(a + "\n" + b) == encode(a) + [<0x0A>] + encode(b), so the corpus can be
#   encoded line by line and still match what the runtime produces for the whole text.
# * split_digits: numbers tokenise digit by digit, so a small vocabulary is not spent on years and pages.
set -euo pipefail
input=${1:?input text}
prefix=${2:?output prefix}
vocab=${3:-4096}
threads=${SPM_THREADS:-2}
spm_train \
  --input="$input" \
  --model_prefix="$prefix" \
  --vocab_size="$vocab" \
  --model_type=unigram \
  --character_coverage=1.0 \
  --byte_fallback=true \
  --normalization_rule_name=identity \
  --remove_extra_whitespaces=false \
  --add_dummy_prefix=false \
  --split_digits=true \
  --max_sentence_length=16384 \
  --input_sentence_size=2000000 \
  --shuffle_input_sentence=true \
  --num_threads="$threads" \
  --unk_id=0 --bos_id=-1 --eos_id=-1 --pad_id=-1 \
  --minloglevel=1
