// `xlmt tokenizer`: train a Unigram (XLM-R style) or WordPiece (BERT style) tokenizer, and inspect encodings.
import { Command, Option } from 'commander';
import { readCorpusFiles, TextTokenizer, trainTokenizer, type TrainEvent, type TokenizerType } from '../tokenize/index.ts';
import { inputsOf, prepareOutputFile } from '../util/output-dir.ts';
import { nonNegativeInt, positiveInt } from './options.ts';

interface TrainFlags {
  corpus: string[];
  type: TokenizerType;
  vocabSize: number;
  minFrequency: number;
  minWordCount?: number;
  lowercase: boolean;
  textField: string;
  out: string;
}

interface EncodeFlags {
  tokenizer: string;
  json: boolean;
}

const count = (n: number): string => n.toLocaleString('en-US');

function describe(event: TrainEvent, files: number): string {
  const at = `${event.seconds.toFixed(1)} s`;
  switch (event.stage) {
    case 'corpus':
      return `read ${count(event.texts)} texts (${count(event.characters)} characters) from ${files} file${files === 1 ? '' : 's'}  [${at}]`;
    case 'trained':
      return `trainer produced ${count(event.pieces)} pieces  [${at}]`;
    case 'done':
      return (
        `kept ${count(event.vocabSize)} tokens (alphabet ${count(event.alphabet)}; dropped ${count(event.droppedRare)} rare, ` +
        `${count(event.droppedForSize)} over the vocab size${event.wholeWords > 0 ? `; added ${count(event.wholeWords)} whole words` : ''})  [${at}]`
      );
  }
}

export function tokenizerCommand(): Command {
  const command = new Command('tokenizer').description('train and inspect tokenizers (Hugging Face tokenizer.json)');

  command
    .command('train')
    .description('train an XLM-R style Unigram or BERT style WordPiece tokenizer on text or JSONL files')
    .requiredOption('--corpus <files...>', 'corpus files: .jsonl/.ndjson (one JSON object per line) or plain text (one text per line)')
    .addOption(new Option('--type <type>', 'tokenizer model').choices(['unigram', 'wordpiece']).makeOptionMandatory())
    .requiredOption('--vocab-size <n>', 'vocabulary size, special tokens included', positiveInt('--vocab-size'))
    .option('--min-frequency <n>', 'drop pieces used fewer times on the corpus (0: keep all)', nonNegativeInt('--min-frequency'), 0)
    .option('--min-word-count <n>', 'WordPiece beyond the trainer\'s 30,000 pieces: whole words seen at least this often fill the vocabulary (default 2)', positiveInt('--min-word-count'))
    .option('--lowercase', 'lowercase the text (WordPiece: also strip accents, as uncased BERT)', false)
    .option('--text-field <name>', 'field holding the text in JSONL files', 'text')
    .requiredOption('--out <file>', 'where to write tokenizer.json')
    .action(async (flags: TrainFlags) => {
      const started = performance.now();
      await prepareOutputFile({ path: flags.out, inputs: inputsOf({ '--corpus': flags.corpus }) });
      const tokenizer = await trainTokenizer(readCorpusFiles(flags.corpus, { textField: flags.textField }), {
        type: flags.type,
        vocabSize: flags.vocabSize,
        minFrequency: flags.minFrequency,
        ...(flags.minWordCount !== undefined ? { minWordCount: flags.minWordCount } : {}),
        lowercase: flags.lowercase,
        onProgress: (event) => console.log(describe(event, flags.corpus.length)),
      });
      tokenizer.save(flags.out);
      const specials = Object.entries(tokenizer.specialTokens)
        .map(([role, s]) => `${role}=${s ? `${s.token}:${s.id}` : '-'}`)
        .join(' ');
      console.log(`wrote ${flags.out}: ${flags.type}, vocab ${count(tokenizer.vocabSize)}, ${specials}  [${((performance.now() - started) / 1000).toFixed(1)} s total]`);
    });

  command
    .command('encode')
    .description('print the tokens and ids of each text, with the special tokens the tokenizer adds')
    .requiredOption('--tokenizer <file>', 'tokenizer.json')
    .option('--json', 'one JSON object per text', false)
    .argument('<texts...>', 'texts to encode')
    .action(async (texts: string[], flags: EncodeFlags) => {
      const tokenizer = TextTokenizer.fromFile(flags.tokenizer);
      for (const text of texts) {
        const { tokens, ids } = await tokenizer.tokenize(text);
        if (flags.json) {
          console.log(JSON.stringify({ text, tokens, ids }));
        } else {
          console.log(`${JSON.stringify(text)}  (${ids.length} tokens)\n  tokens ${JSON.stringify(tokens)}\n  ids    ${JSON.stringify(ids)}`);
        }
      }
    });

  return command;
}
