/**
 * The page's one WebSocket to the server: state (cameras, alerts) for
 * everyone who renders it, and each camera's latest update for the tiles
 * that draw it. Reconnects with a growing pause; tells the app when the
 * server says the session is gone.
 */
import { decodeUpdate, type AlertInfo, type CameraInfo, type Hello, type StateMessage, type Update } from './wire.js';

export type LinkState = 'connecting' | 'open' | 'reconnecting' | 'signed-out';

type Listener = () => void;
type UpdateListener = (update: Update) => void;

export class Live {
  link: LinkState = 'connecting';
  hello: Hello | undefined;
  cameras: CameraInfo[] = [];
  active: AlertInfo[] = [];
  recent: AlertInfo[] = [];
  private readonly latest = new Map<string, Update>();
  private readonly listeners = new Set<Listener>();
  private readonly updateListeners = new Map<string, Set<UpdateListener>>();
  private ws: WebSocket | undefined;
  private watching: '*' | string[] = '*';
  private retryMs = 500;
  private stopped = false;
  /** Updates received, per camera (the tiles show the frame number; tests read this). */
  readonly received = new Map<string, number>();

  constructor(private readonly onSignedOut: () => void) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.ws?.close();
  }

  /** Which cameras to receive updates for: the wall wants all, a camera view one. */
  watch(cameras: '*' | string[]): void {
    this.watching = cameras;
    this.sendWatch();
  }

  latestOf(camera: string): Update | undefined {
    return this.latest.get(camera);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onUpdate(camera: string, listener: UpdateListener): () => void {
    let set = this.updateListeners.get(camera);
    if (!set) this.updateListeners.set(camera, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  private connect(): void {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 500;
      this.setLink('open');
      this.sendWatch();
    };
    ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (typeof event.data === 'string') this.onState(JSON.parse(event.data) as StateMessage);
      else this.onBinary(event.data);
    };
    ws.onclose = (event: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      if (this.stopped) return;
      if (event.code === 4001) {
        this.setLink('signed-out');
        this.onSignedOut();
        return;
      }
      this.setLink('reconnecting');
      // A refused upgrade (401: the session ended) looks like a close with 1006; the app re-checks the session on reconnect failure.
      setTimeout(() => {
        if (this.stopped) return;
        void fetch('/api/session', { credentials: 'same-origin' }).then(
          (r) => {
            if (r.status === 401) {
              this.setLink('signed-out');
              this.onSignedOut();
            } else this.connect();
          },
          () => this.connect(),
        );
      }, this.retryMs);
      this.retryMs = Math.min(10_000, this.retryMs * 2);
    };
  }

  private sendWatch(): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'watch', cameras: this.watching }));
  }

  private onState(message: StateMessage): void {
    if (message.type === 'hello') this.hello = message;
    else if (message.type === 'cameras') {
      this.cameras = message.cameras;
      const names = new Set(message.cameras.map((c) => c.name));
      for (const name of [...this.latest.keys()]) if (!names.has(name)) this.latest.delete(name);
    } else {
      this.active = message.active;
      this.recent = message.recent;
    }
    this.emit();
  }

  private onBinary(buffer: ArrayBuffer): void {
    let update: Update;
    try {
      update = decodeUpdate(buffer);
    } catch {
      return;
    }
    const camera = update.header.camera;
    this.latest.set(camera, update);
    this.received.set(camera, (this.received.get(camera) ?? 0) + 1);
    for (const listener of this.updateListeners.get(camera) ?? []) listener(update);
  }

  private setLink(link: LinkState): void {
    this.link = link;
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
