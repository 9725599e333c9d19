// Time-loop helpers shared by the recurrent window kernels (rnn.ts, lstm.ts,
// gru.ts): loop step s processes time index step_time(s); the state it starts
// from is the one written at prev_time(step_time(s)) (or h0/c0 when s = 0).

/** The time index processed at loop step s: s forward, T−1−s in reverse. */
// @ts-ignore: decorator
@inline export function step_time(s: i32, t: i32, reverse: i32): i32 {
  return reverse ? t - 1 - s : s;
}

/** The time index processed just before ti, in processing order. */
// @ts-ignore: decorator
@inline export function prev_time(ti: i32, reverse: i32): i32 {
  return reverse ? ti + 1 : ti - 1;
}
