/**
 * Progress for long-running commands on stderr: an updating line on a terminal, a line every few seconds
 * otherwise (CI logs), and always a final line.
 */
export function progress(label: string, stream: NodeJS.WriteStream = process.stderr): { update(done: bigint | number, total: bigint | number): void; finish(summary: string): void } {
  const tty = stream.isTTY === true;
  const started = Date.now();
  let lastPrint = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - lastPrint < (tty ? 100 : 5000)) return;
      lastPrint = now;
      const pct = Number(total) > 0 ? Math.min(100, (Number(done) / Number(total)) * 100) : 100;
      const rate = Number(done) / Math.max(0.001, (now - started) / 1000);
      const line = `${label}: ${done}/${total} (${pct.toFixed(1)}%), ${Math.round(rate)}/s`;
      stream.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
    },
    finish(summary) {
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      stream.write(`${tty ? '\r\u001b[K' : ''}${label}: ${summary} in ${secs}s\n`);
    },
  };
}
