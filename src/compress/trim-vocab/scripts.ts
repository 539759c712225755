// Unicode scripts (the Script property) of text and of single-character pieces: trimming keeps every
// one-character piece of each script the corpus uses, so that a word never seen still tokenizes, character by
// character, instead of becoming unknown.
//
// Script, not Script_Extensions: a character shared by several scripts (digits, punctuation, the long vowel mark
// ー) has Script=Common, and a corpus that has any text has Common characters, so those pieces stay anyway.

/** Every script value of Unicode 15 (what Node 20's regular expressions know). */
const SCRIPTS = [
  'Adlam', 'Ahom', 'Anatolian_Hieroglyphs', 'Arabic', 'Armenian', 'Avestan', 'Balinese', 'Bamum', 'Bassa_Vah', 'Batak',
  'Bengali', 'Bhaiksuki', 'Bopomofo', 'Brahmi', 'Braille', 'Buginese', 'Buhid', 'Canadian_Aboriginal', 'Carian',
  'Caucasian_Albanian', 'Chakma', 'Cham', 'Cherokee', 'Chorasmian', 'Common', 'Coptic', 'Cuneiform', 'Cypriot',
  'Cypro_Minoan', 'Cyrillic', 'Deseret', 'Devanagari', 'Dives_Akuru', 'Dogra', 'Duployan', 'Egyptian_Hieroglyphs',
  'Elbasan', 'Elymaic', 'Ethiopic', 'Georgian', 'Glagolitic', 'Gothic', 'Grantha', 'Greek', 'Gujarati', 'Gunjala_Gondi',
  'Gurmukhi', 'Han', 'Hangul', 'Hanifi_Rohingya', 'Hanunoo', 'Hatran', 'Hebrew', 'Hiragana', 'Imperial_Aramaic',
  'Inherited', 'Inscriptional_Pahlavi', 'Inscriptional_Parthian', 'Javanese', 'Kaithi', 'Kannada', 'Katakana', 'Kawi',
  'Kayah_Li', 'Kharoshthi', 'Khitan_Small_Script', 'Khmer', 'Khojki', 'Khudawadi', 'Lao', 'Latin', 'Lepcha', 'Limbu',
  'Linear_A', 'Linear_B', 'Lisu', 'Lycian', 'Lydian', 'Mahajani', 'Makasar', 'Malayalam', 'Mandaic', 'Manichaean',
  'Marchen', 'Masaram_Gondi', 'Medefaidrin', 'Meetei_Mayek', 'Mende_Kikakui', 'Meroitic_Cursive', 'Meroitic_Hieroglyphs',
  'Miao', 'Modi', 'Mongolian', 'Mro', 'Multani', 'Myanmar', 'Nabataean', 'Nag_Mundari', 'Nandinagari', 'New_Tai_Lue',
  'Newa', 'Nko', 'Nushu', 'Nyiakeng_Puachue_Hmong', 'Ogham', 'Ol_Chiki', 'Old_Hungarian', 'Old_Italic',
  'Old_North_Arabian', 'Old_Permic', 'Old_Persian', 'Old_Sogdian', 'Old_South_Arabian', 'Old_Turkic', 'Old_Uyghur',
  'Oriya', 'Osage', 'Osmanya', 'Pahawh_Hmong', 'Palmyrene', 'Pau_Cin_Hau', 'Phags_Pa', 'Phoenician', 'Psalter_Pahlavi',
  'Rejang', 'Runic', 'Samaritan', 'Saurashtra', 'Sharada', 'Shavian', 'Siddham', 'SignWriting', 'Sinhala', 'Sogdian',
  'Sora_Sompeng', 'Soyombo', 'Sundanese', 'Syloti_Nagri', 'Syriac', 'Tagalog', 'Tagbanwa', 'Tai_Le', 'Tai_Tham',
  'Tai_Viet', 'Takri', 'Tamil', 'Tangsa', 'Tangut', 'Telugu', 'Thaana', 'Thai', 'Tibetan', 'Tifinagh', 'Tirhuta', 'Toto',
  'Ugaritic', 'Vai', 'Vithkuqi', 'Wancho', 'Warang_Citi', 'Yezidi', 'Yi', 'Zanabazar_Square',
] as const;

/** The script of code points no script claims (unassigned, private use). */
export const UNKNOWN_SCRIPT = 'Unknown';

const PATTERNS = new Map<string, RegExp>(SCRIPTS.map((s) => [s, new RegExp(`^\\p{Script=${s}}$`, 'u')]));
const WHITESPACE = /^\s$/u;

/** The script of one character (a code point). */
export function scriptOf(char: string): string {
  for (const [script, pattern] of PATTERNS) if (pattern.test(char)) return script;
  return UNKNOWN_SCRIPT;
}

/**
 * Collects the scripts of the characters of texts, one distinct character at a time. Whitespace is skipped: it
 * is never a piece of its own (pre-tokenizers split on it).
 */
export class ScriptSet {
  readonly scripts = new Set<string>();
  readonly #seen = new Set<string>();

  add(text: string): void {
    for (const char of text) {
      if (this.#seen.has(char)) continue;
      this.#seen.add(char);
      if (!WHITESPACE.test(char)) this.scripts.add(scriptOf(char));
    }
  }

  /** Whether `char` belongs to a script seen so far; tests only those scripts. */
  covers(char: string): boolean {
    for (const script of this.scripts) {
      const pattern = PATTERNS.get(script);
      if (pattern ? pattern.test(char) : scriptOf(char) === UNKNOWN_SCRIPT) return true;
    }
    return false;
  }
}
