// ONNX Runtime on a worker thread of its own, one per process.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';

/** An int64 input as the thread receives it. */
export interface TensorInput {
  type: 'int64';
  data: BigInt64Array;
  dims: number[];
}

/** A float output: its values and shape. */
export interface TensorOutput {
  data: Float32Array;
  dims: number[];
}

interface Pending {
  resolve: (value: never) => void;
  reject: (err: Error) => void;
}

/** The worker's file: worker/ beside src/ and dist/, so the same from Jest and from node. */
const WORKER_FILE = join(__dirname, '..', 'worker', 'onnx-thread.cjs');

/**
 * The process's ONNX Runtime thread. onnxruntime-node computes a `run` synchronously on the
 * calling thread, so on the main thread an embedding batch (5 ms for a short message, 30 ms for
 * a passage, more for a batch) stopped every consumer, timer and HTTP answer of the service for
 * its duration. Here the model runs beside the event loop, which only posts the token ids and
 * receives the vectors. Every session of the process lives on this one thread: the native
 * binding is loaded in one place only (it is not safe to load in several threads at once).
 */
class OnnxThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private nextSession = 0;
  private ended?: Error;

  constructor() {
    this.worker = new Worker(WORKER_FILE);
    // Idle, the thread does not keep the process alive; a call in flight does (see call).
    this.worker.unref();
    this.worker.on('message', (m: { id: number; value?: never; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.value!);
    });
    this.worker.on('error', (err) => this.end(err));
    this.worker.on('exit', (code) => this.end(new Error(`the encoder thread exited (${code})`)));
  }

  private end(err: Error): void {
    this.ended ??= err;
    for (const p of this.pending.values()) p.reject(this.ended);
    this.pending.clear();
    if (thread === this) thread = undefined; // the next load starts another thread
  }

  call<T>(message: Record<string, unknown>): Promise<T> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject });
      this.worker.ref();
      this.worker.postMessage({ ...message, id });
    });
  }

  async load(path: string, options: InferenceSession.SessionOptions): Promise<ThreadSession> {
    const session = this.nextSession++;
    const names = await this.call<{ inputNames: string[]; outputNames: string[] }>({
      type: 'load',
      session,
      path,
      options,
    });
    return new ThreadSession(this, session, names.inputNames, names.outputNames);
  }
}

let thread: OnnxThread | undefined;

/** Loads an ONNX model onto the process's ONNX thread (started on first use). */
export function loadOnThread(
  path: string,
  options: InferenceSession.SessionOptions,
): Promise<ThreadSession> {
  thread ??= new OnnxThread();
  return thread.load(path, options);
}

/** A model loaded on the ONNX thread. */
export class ThreadSession {
  constructor(
    private readonly thread: OnnxThread,
    private readonly session: number,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  /** Runs the model on these inputs and returns `output` (else its first output). */
  run(feeds: Record<string, TensorInput>, output: string): Promise<TensorOutput> {
    return this.thread.call({ type: 'run', session: this.session, feeds, output });
  }

  release(): Promise<void> {
    return this.thread.call({ type: 'release', session: this.session });
  }
}
