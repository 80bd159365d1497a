// Events that flow out of a module to whoever listens, without the module importing the listener:
// the run life cycle announces that a run ended, and the notifications feature (registered where
// the application is put together) turns that into messages.

export interface RunEndedEvent {
  type: 'run.ended';
  model: 'backup' | 'restore' | 'verification';
  id: string;
}

export type CoffreEvent = RunEndedEvent;

export interface Events {
  /** Delivers an event to every listener; a listener's failure is logged by it, never thrown here. */
  emit(event: CoffreEvent): Promise<void>;
  on(listener: (event: CoffreEvent) => Promise<void>): () => void;
}

export function createEvents(onListenerError: (error: unknown, event: CoffreEvent) => void = () => {}): Events {
  const listeners = new Set<(event: CoffreEvent) => Promise<void>>();
  return {
    async emit(event) {
      for (const listener of listeners) {
        try {
          await listener(event);
        } catch (error) {
          onListenerError(error, event);
        }
      }
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
