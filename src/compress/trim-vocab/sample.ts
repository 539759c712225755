// The "other text" the proof tokenizes beside the corpus: the first lines of files the user names (--sample),
// and always a small built-in sample in many languages and scripts. Text outside the corpus is where a trimmed
// vocabulary differs: words whose pieces were dropped split into smaller pieces (tokenized differently, and so
// not compared), scripts the corpus lacks become unknown. Every text whose pieces all survived must still
// tokenize exactly as before, which is what the sample checks on text the selection never saw.
import { readCorpusLines, type CorpusLine } from '../../tokenize/corpus.ts';

export const BUILT_IN_SAMPLE_NAME = 'built-in multilingual sample';

/** Short everyday sentences written for xlmt, in 22 languages and 12 scripts, and one of numbers, currency and symbols. */
export const BUILT_IN_SAMPLE: readonly string[] = [
  'The delivery was late, but the staff were friendly.',
  'I would not order from this shop again.',
  'Die Lieferung kam pünktlich und alles war gut verpackt.',
  'Der Kundendienst hat nie geantwortet.',
  'Le service était rapide et le prix raisonnable.',
  'Je suis déçu par la qualité du produit.',
  'El hotel estaba limpio y el personal fue muy amable.',
  'No recomiendo este restaurante a nadie.',
  'O atendimento foi ótimo, voltarei com certeza.',
  'Il treno è arrivato con un’ora di ritardo.',
  'Het eten was koud en de bediening traag.',
  'Zamówienie dotarło szybko, jestem zadowolony.',
  'Bu ürün beklediğimden çok daha iyi çıktı.',
  'Dịch vụ ở đây rất tốt, tôi sẽ quay lại.',
  'Доставка была быстрой, всё работает отлично.',
  'Обслуговування було жахливим.',
  'Η εξυπηρέτηση ήταν εξαιρετική.',
  'השירות היה איטי והמחיר גבוה מדי.',
  'كانت الخدمة ممتازة والطعام لذيذاً.',
  'لن أشتري من هذا المتجر مرة أخرى.',
  'सेवा बहुत अच्छी थी, धन्यवाद!',
  'खाना ठंडा था और देर से आया।',
  'অর্ডারটি সময়মতো পৌঁছেছে।',
  'பொருள் நன்றாக இருக்கிறது.',
  '配送很快，质量也很好。',
  '客服一直不回复，非常失望。',
  '商品はすぐに届き、とても満足しています。',
  'サービスが遅くて残念でした。',
  '배송이 빠르고 포장도 꼼꼼했어요.',
  '다시는 주문하지 않을 거예요.',
  'บริการดีมาก อาหารอร่อย',
  'Price: 25 € (was 40 €), 3 items, order #1234 — thanks! :)',
];

/** The built-in sample as corpus lines (its "line" is the sentence's number). */
export function builtInSample(): CorpusLine[] {
  return BUILT_IN_SAMPLE.map((text, i) => ({ text, file: BUILT_IN_SAMPLE_NAME, line: i + 1 }));
}

/** The first `lines` texts of each file, then the built-in sample. */
export async function* sampleLines(files: readonly string[], lines: number, textField?: string): AsyncGenerator<CorpusLine> {
  for (const file of files) {
    let taken = 0;
    for await (const line of readCorpusLines([file], textField === undefined ? {} : { textField })) {
      if (taken++ >= lines) break;
      yield line;
    }
  }
  yield* builtInSample();
}
