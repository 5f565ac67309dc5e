/** The language part of a locale: "pt-BR" -> "pt", "" -> the fallback. */
export function languageOf(locale: string | undefined, fallback = 'en'): string {
  const lang = (locale ?? '').split(/[-_]/)[0].toLowerCase();
  return /^[a-z]{2,3}$/.test(lang) ? lang : fallback;
}
