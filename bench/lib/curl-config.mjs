// A curl config (-K) with one entry per GET, the entries separated by `next`: an
// entry's options (its output, its Accept, `fail`) then stay with its URL. Without
// `next`, every header line applies to every URL of the config, and options such
// as `fail` given on the command line end at the first `next`.

/** The config text for `items`: { url, output, accept?, lines? (more option lines for that entry) }. */
export function curlConfigText(items) {
  const entry = ({ url, output, accept, lines = [] }) =>
    [`url = "${url}"`, `output = "${output}"`, ...(accept ? [`header = "Accept: ${accept}"`] : []), ...lines].join('\n');
  return `${items.map(entry).join('\nnext\n')}\n`;
}
