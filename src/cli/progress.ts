// Progress of a training loop on stderr: a progress bar on a terminal, a line every 10 s elsewhere.
import cliProgress from 'cli-progress';

export interface StepProgress {
  readonly epoch: number;
  readonly step: number;
  readonly totalSteps: number;
  readonly loss: number;
  readonly lr: number;
  /** Examples or tokens in this step, for the rate. */
  readonly amount: number;
}

export interface Progress {
  /** A line of its own (the bar pauses and resumes on the next step). */
  note(line: string): void;
  start(totalSteps: number, startStep: number): void;
  step(s: StepProgress): void;
}

/** `unit` names what `amount` counts, per second: 'ex/s' or 'tokens/s'. */
export function progress(quiet: boolean, unit: string): Progress {
  const print = (line: string): void => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  if (quiet || !process.stderr.isTTY) {
    let last = 0;
    return {
      note: print,
      start: () => {},
      step: (s) => {
        const now = Date.now();
        if (now - last < 10_000 && s.step !== s.totalSteps) return;
        last = now;
        print(`step ${s.step}/${s.totalSteps} epoch ${s.epoch + 1} loss ${s.loss.toFixed(4)} lr ${s.lr.toExponential(2)}`);
      },
    };
  }
  const bar = new cliProgress.SingleBar({
    format: `epoch {epoch} |{bar}| {value}/{total} steps | loss {loss} | {rate} ${unit} | ETA {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
  }, cliProgress.Presets.shades_classic);
  let started = Date.now();
  let amount = 0;
  let running = false;
  const pause = (): void => {
    if (running) bar.stop();
    running = false;
  };
  return {
    note: (line) => {
      pause();
      print(line);
    },
    start: (totalSteps, startStep) => {
      started = Date.now();
      amount = 0;
      bar.start(totalSteps, startStep, { epoch: 1, loss: '-', rate: '-' });
      running = true;
    },
    step: (s) => {
      amount += s.amount;
      const rate = amount / ((Date.now() - started) / 1000);
      if (!running) bar.start(s.totalSteps, s.step, { epoch: s.epoch + 1, loss: '-', rate: '-' });
      running = true;
      bar.update(s.step, { epoch: s.epoch + 1, loss: s.loss.toFixed(4), rate: rate.toFixed(rate < 100 ? 1 : 0) });
      if (s.step === s.totalSteps) pause();
    },
  };
}
