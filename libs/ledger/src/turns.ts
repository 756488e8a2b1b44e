/**
 * In-process turns on a key: work on one key runs after every earlier work on it has settled. The pipeline takes
 * turns per stream it decides on; a command that also claims a shared bookkeeping stream (a period's MDF budget, a
 * deal's revenue) takes a turn on that stream too, so that the commands of one process never collide there and
 * only other processes meet them at the stream's revision (the pipeline's bounded retries).
 */
export class Turns {
  private readonly queues = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key);
    const run = previous === undefined ? work() : previous.then(work, work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }
}
