// The transfer layer emits into the one progress channel of core; these names
// stay so its many call sites read as before.
export { noEvents, type EventSink, type NodeAction, type FerryEvent as TransferEvent } from '../core/progress-events.js';
