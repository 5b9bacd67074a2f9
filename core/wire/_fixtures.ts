/**
 * One of every client request and server message, with non-default values in
 * every field, shared by the round-trip and interop tests.
 *
 * @module
 */

import type { ClientRequest, NewOrderRequest, ServerEvent } from "./types.ts";

/** A valid post-only limit order with every field set. */
export const ORDER: NewOrderRequest = {
  type: "newOrder",
  requestId: 11n,
  sentAt: 1_700_000_000_123_456_789n,
  clientOrderId: 42n,
  symbol: "BRK.B",
  side: "sell",
  orderType: "limit",
  timeInForce: "gtc",
  postOnly: true,
  price: 10050,
  quantity: 300,
  account: "desk-7",
};

/** One of every request, with non-default values wherever a field allows one. */
export const EVERY_REQUEST: readonly ClientRequest[] = [
  ORDER,
  {
    ...ORDER,
    orderType: "market",
    timeInForce: "ioc",
    postOnly: false,
    price: 0,
    side: "buy",
    account: "",
  },
  { ...ORDER, timeInForce: "fok", postOnly: false, price: Number.MAX_SAFE_INTEGER, quantity: 1 },
  { type: "cancel", requestId: 1n, sentAt: 2n, clientOrderId: 0xffff_ffff_ffff_ffffn },
  { type: "replace", requestId: 3n, sentAt: 4n, clientOrderId: 42n, price: 9999, quantity: 7 },
  { type: "cancelAll", requestId: 5n, sentAt: 6n, symbol: "" },
  { type: "cancelAll", requestId: 5n, sentAt: 6n, symbol: "ES-FUT" },
  { type: "subscribe", requestId: 7n, sentAt: 8n, symbol: "AAPL" },
  { type: "unsubscribe", requestId: 9n, sentAt: 10n, symbol: "A1234567890Z" },
  { type: "requestSnapshot", requestId: 11n, sentAt: 12n, symbol: "SPY" },
  { type: "requestOrders", requestId: 13n, sentAt: 14n, sinceSequence: 123_456n, maxReports: 500 },
  { type: "ping", requestId: 0xffff_ffff_ffff_ffffn, sentAt: -1n },
  { type: "reauthenticate", requestId: 17n, sentAt: 18n, token: "aGVhZGVy.cGF5bG9hZA.c2ln" },
];

/** A time: ns since the Unix epoch. */
export const T = 1_700_000_000_123_456_789n;

/**
 * One of every server message with every field set to a non-default value,
 * so that a field the encoder forgets shows up as a difference.
 */
export const EVERY_EVENT: readonly ServerEvent[] = [
  {
    type: "executionReport",
    requestId: 11n,
    sentAt: T + 5n,
    sequence: 3n,
    execType: "trade",
    clientOrderId: 42n,
    orderId: 9_000_000_001n,
    account: "desk-7",
    symbol: "BRK.B",
    side: "sell",
    orderType: "limit",
    timeInForce: "ioc",
    postOnly: true,
    price: 10050,
    leavesQuantity: 60,
    cumQuantity: 40,
    lastPrice: 10049,
    lastQuantity: 15,
    tradeId: 777n,
    liquidity: "taker",
    cancelReason: "selfTrade",
    engineTime: T,
    replayed: true,
    cancelledQuantity: 25,
  },
  {
    type: "reject",
    requestId: 12n,
    sentAt: T,
    reason: "notAuthorised",
    message: "Cannot place order: account desk-9 is not yours",
    request: "newOrder",
    clientOrderId: 43n,
    symbol: "AAPL",
  },
  {
    type: "bookSnapshot",
    requestId: 13n,
    sentAt: T,
    symbol: "ES-FUT",
    sequence: 1_000n,
    bids: [
      { price: 500025, quantity: 10, orderCount: 2 },
      { price: 500000, quantity: 7, orderCount: 1 },
    ],
    asks: [{ price: 500050, quantity: 3, orderCount: 3 }],
    engineTime: T,
  },
  {
    type: "bookDelta",
    requestId: 0n,
    sentAt: T,
    symbol: "AAPL",
    sequence: 1_001n,
    levels: [
      { side: "buy", price: 10050, quantity: 0, orderCount: 0 },
      { side: "sell", price: 10051, quantity: 250, orderCount: 4 },
    ],
    engineTime: T,
  },
  {
    type: "trade",
    requestId: 0n,
    sentAt: T,
    symbol: "AAPL",
    sequence: 1_002n,
    tradeId: 778n,
    price: 10051,
    quantity: 5,
    aggressorSide: "buy",
    engineTime: T,
  },
  {
    type: "quote",
    requestId: 0n,
    sentAt: T,
    symbol: "AAPL",
    sequence: 1_003n,
    bidPrice: 10049,
    bidQuantity: 100,
    askPrice: 10051,
    askQuantity: 245,
    engineTime: T,
  },
  {
    type: "heartbeat",
    requestId: 14n,
    sentAt: T,
    intervalMs: 1000,
    echoSentAt: T - 1000n,
    executionSequence: 3n,
  },
  {
    type: "resync",
    requestId: 0n,
    sentAt: T,
    symbol: "MSFT",
    reason: "slowConsumer",
    message: "Your queue for MSFT overflowed; a snapshot follows",
  },
  {
    type: "positions",
    requestId: 15n,
    sentAt: T,
    account: "desk-7",
    executionSequence: 3n,
    positions: [
      {
        symbol: "AAPL",
        netQuantity: -25,
        boughtQuantity: 15,
        soldQuantity: 40,
        boughtNotional: 150_750n,
        soldNotional: 2n ** 62n,
        openBuyQuantity: 5,
        openSellQuantity: 60,
      },
    ],
    oldestSequence: 2n,
    throughSequence: 3n,
    more: true,
    sinceTooOld: true,
  },
  {
    type: "error",
    requestId: 16n,
    sentAt: T,
    reason: "malformedFrame",
    message: "Cannot read frame: 3 bytes is not a whole number of 8-byte words",
    closing: true,
  },
];
