// windhash dashboard: redraws when new data lands, without reloading the page. Every few seconds (30 by
// default; ?live=N in the URL, 0 turns it off) it asks the API, with If-None-Match, whether the data status
// or the figures on screen changed; the API answers 304 from its response cache when they did not.
import { changedSince } from "./api.js";

let timer = null;

// watched(): the [path, params] pairs that stand for what is on screen; onChange(): redraw.
export function watchForChanges(seconds, watched, onChange) {
  if (timer !== null) clearTimeout(timer);
  if (!(seconds > 0)) return;
  const tick = async () => {
    if (!document.hidden) {
      try {
        const changes = await Promise.all(watched().map(([path, params]) => changedSince(path, params)));
        if (changes.some(Boolean)) await onChange();
      } catch {
        // the API is unreachable for now: ask again next time
      }
    }
    timer = setTimeout(tick, seconds * 1000);
  };
  tick();
}
