import { HttpMetrics } from "./metrics.ts";
import assert from "node:assert";

Deno.test("HttpMetrics: cumulative buckets, sum and count, escaped labels", () => {
  const m = new HttpMetrics();
  m.observe("/a", 200, 0.0002);
  m.observe("/a", 200, 0.003);
  m.observe("/a", 304, 2);
  m.observe('we"ird\\\n', 404, 0.0001);
  const text = m.render();
  for (
    const line of [
      'http_requests_total{route="/a",status="200"} 2',
      'http_requests_total{route="/a",status="304"} 1',
      'http_request_duration_seconds_bucket{route="/a",le="0.00025"} 1',
      'http_request_duration_seconds_bucket{route="/a",le="0.005"} 2',
      'http_request_duration_seconds_bucket{route="/a",le="1"} 2',
      'http_request_duration_seconds_bucket{route="/a",le="+Inf"} 3',
      'http_request_duration_seconds_count{route="/a"} 3',
      'http_cache_hits_total{route="/a"} 1',
      'http_requests_total{route="we\\"ird\\\\\\n",status="404"} 1',
    ]
  ) assert(text.includes(line + "\n"), `missing ${line}`);
  assert.deepStrictEqual(m.count("/a", 200), 2);
});
