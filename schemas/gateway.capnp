# The trader gateway's wire: every message that crosses the core's WebSocket.
#
# One frame = one WebSocket binary message = one Cap'n Proto message in the
# standard (unpacked) stream framing, whose root is a `ClientMessage` (trader
# to core) or a `ServerMessage` (core to trader).
#
# Units, everywhere in this file:
# - prices are Int64 counts of *price units*: 1 unit = 1 / priceScale of the
#   quote currency, per the instrument table (price 10050 at priceScale 100 is
#   100.50); a price must also be a multiple of the instrument's tickSize;
# - quantities are Int64 counts of *lots* (lotSize shares each);
# - notionals are Int64 sums of price x quantity, in price units x lots;
# - times are Int64 nanoseconds since the Unix epoch (UTC), 0 = not given;
# - symbols are Text, 1 to 12 of [A-Z0-9.-] ("AAPL", "BRK.B", "ES-FUT");
# - ids and sequence numbers are UInt64.
#
# Evolution: new fields, enumerants and union members only ever get new,
# higher ordinals; names may change, ordinals never do, and nothing is ever
# removed (a retired field stays, documented as unused). A reader meets fields
# it does not know with their default values, so a default (0, false, empty,
# the enumerant @0) must always mean "not given".

@0x82765e45dcc46ba4;

# ---------------------------------------------------------------------------
# Enumerations

enum Side {
  # A missing side must never be read as a buy, so 0 is "not given" (rejected
  # as invalidOrder). The engine's own numbering (buy 0, sell 1) is internal.
  unspecified @0;
  buy @1;
  sell @2;
}

enum OrderType {
  unspecified @0;  # not given: rejected as invalidOrder
  limit @1;        # rests at its price (within its time in force)
  market @2;       # takes whatever the book offers; carries no price
}

enum TimeInForce {
  gtc @0;  # good till cancelled: the default when not given
  ioc @1;  # immediate or cancel: the unfilled rest expires at once
  fok @2;  # fill or kill: all of it at once, or nothing
}

enum RejectReason {
  # Why a request was refused. Values 1 to 17 are the engine's own reject
  # codes (native/src/record.rs) and keep their numbers; the gateway's
  # reasons follow them. schemas/vocabulary/reasons.ts holds the table:
  # each number's engine name, wire name and text.
  unspecified @0;     # no reason given
  unknownSymbol @1;   # symbol missing, malformed (not 1-12 of [A-Z0-9.-]) or not configured
  invalidQty @2;      # quantity missing, not positive, or beyond 2^53 - 1
  invalidPrice @3;    # price missing, not positive, beyond 2^53 - 1, or not a tick multiple
  duplicateId @4;     # clientOrderId already used in this session
  invalidOrder @5;    # an impossible combination or value: side/type missing or unknown,
                      # clientOrderId 0, a market order with a price, post-only on
                      # anything but a GTC limit, account too long
  wouldCross @6;      # a post-only order would have taken liquidity
  unknownOrder @7;    # no working order with that clientOrderId
  unknownCommand @8;  # the engine did not know the command (internal)
  halted @9;          # the engine has halted and takes no more orders
  inDoubt @10;        # the journal could not confirm the command; recovery will tell

  # Pre-trade risk: the engine's checks of each account's limits (set through the admin API).
  maxOrderQty @11;     # quantity above the per-order limit
  maxNotional @12;     # price x quantity above the per-order notional limit
  priceCollar @13;     # price too far from the reference price
  positionLimit @14;   # the fill could take the position beyond its limit
  openOrderLimit @15;  # too many working orders
  orderRateLimit @16;  # too many requests per second
  killSwitch @17;      # trading is switched off for this account or the whole gateway

  # The frame itself.
  frameTooLarge @18;   # over the gateway's frame size limit (64 KiB by default)
  malformedFrame @19;  # not a valid Cap'n Proto message: impossible segment table,
                       # truncated, trailing bytes, pointers out of bounds, wrong types
  unknownMessage @20;  # a ClientMessage union tag this gateway does not know
  notAuthorised @21;   # the session may not do this (e.g. trade that account)
}

enum RequestType {
  # Which request a Reject answers: the ClientMessage union member, by name.
  unspecified @0;  # not known (e.g. the frame could not be read that far)
  newOrder @1;
  cancel @2;
  replace @3;
  cancelAll @4;
  subscribe @5;
  unsubscribe @6;
  requestSnapshot @7;
  requestOrders @8;
  ping @9;
  reauthenticate @10;
}

enum ExecType {
  # What happened to an order, in an ExecutionReport.
  accepted @0;   # the order passed validation and reached the book
  trade @1;      # it traded: lastQuantity at lastPrice (leavesQuantity says what is left)
  cancelled @2;  # it left the book (see cancelReason)
  expired @3;    # an IOC, FOK or market order's unfilled rest was dropped
  replaced @4;   # its price and open quantity are now price and leavesQuantity
}

enum CancelReason {
  # The engine's cancel reasons, same numbers (schemas/vocabulary/reasons.ts).
  requested @0;  # by its owner (cancel, cancelAll); also the value in non-cancel reports
  selfTrade @1;  # self-trade prevention: an order of the same account would have traded with it
}

enum Liquidity {
  unspecified @0;  # not a trade
  maker @1;        # the order was resting: it provided liquidity
  taker @2;        # the order was incoming: it took liquidity
}

enum ResyncReason {
  unspecified @0;
  slowConsumer @1;   # your queue for this symbol overflowed and deltas were dropped
  sequenceReset @2;  # the channel's sequence numbers restart (e.g. the engine restarted)
}

# ---------------------------------------------------------------------------
# Trader to core

struct ClientMessage {
  # The root of every frame a trader sends.

  requestId @0 :UInt64;
  # Chosen by the client to correlate replies: every ServerMessage that answers
  # this request carries it back in its own requestId. 0 = no correlation.

  sentAt @1 :Int64;
  # The client's clock when it sent the frame (ns since the Unix epoch); 0 = not
  # given. Echoed by the heartbeat that answers a ping, for round-trip times.

  union {
    newOrder @2 :NewOrder;
    cancel @3 :CancelOrder;
    replace @4 :ReplaceOrder;
    cancelAll @5 :CancelAll;
    subscribe @6 :Subscribe;
    unsubscribe @7 :Unsubscribe;
    requestSnapshot @8 :RequestSnapshot;
    requestOrders @9 :RequestOrders;
    ping @10 :Ping;
    reauthenticate @11 :Reauthenticate;
  }
}

struct NewOrder {
  # Place an order. Answered by an ExecutionReport (accepted, then trades,
  # expiry...) or a Reject.

  clientOrderId @0 :UInt64;
  # The client's id for this order, unique within the session, never 0. Every
  # report about the order carries it; cancel and replace name the order by it.

  symbol @1 :Text;
  # The instrument: 1 to 12 of [A-Z0-9.-].

  side @2 :Side;
  # buy or sell; required.

  orderType @3 :OrderType;
  # limit or market; required.

  timeInForce @4 :TimeInForce;
  # gtc (default), ioc or fok. A market order's unfilled rest always expires.

  postOnly @5 :Bool;
  # Only rest, never take: rejected with wouldCross if it would trade on
  # arrival. GTC limit orders only.

  price @6 :Int64;
  # Limit price in price units (a positive multiple of the instrument's
  # tickSize). Must be 0 (not given) for a market order.

  quantity @7 :Int64;
  # Lots, positive.

  account @8 :Text;
  # The account to trade for: at most 48 bytes of UTF-8; empty = the session's
  # own account. Another account needs the session's permission (else
  # notAuthorised).
}

struct CancelOrder {
  # Cancel a working order. Answered by an ExecutionReport (cancelled) or a
  # Reject (unknownOrder when it is no longer working).

  clientOrderId @0 :UInt64;
  # The clientOrderId of the order to cancel.
}

struct ReplaceOrder {
  # Change a working order's price and open quantity. It keeps its time
  # priority only when the price is unchanged and the quantity does not grow.
  # Answered by an ExecutionReport (replaced, maybe trades) or a Reject.

  clientOrderId @0 :UInt64;
  # The clientOrderId of the order to change; the order keeps this id.

  price @1 :Int64;
  # The new limit price in price units (positive, a tick multiple).

  quantity @2 :Int64;
  # The new open quantity in lots (positive): what is left to fill, not the
  # original size.
}

struct CancelAll {
  # Cancel every working order of the session (of one symbol, if given).
  # Answered by one ExecutionReport (cancelled) per order.

  symbol @0 :Text;
  # Only this symbol's orders; empty = every symbol.
}

struct Subscribe {
  # Start the market data of one symbol: a BookSnapshot, then BookDelta,
  # Trade and Quote messages numbered on the symbol's channel.

  symbol @0 :Text;
}

struct Unsubscribe {
  # Stop the market data of one symbol.

  symbol @0 :Text;
}

struct RequestSnapshot {
  # Ask for a fresh BookSnapshot of a subscribed symbol, e.g. after seeing a
  # gap in its channel's sequence numbers.

  symbol @0 :Text;
}

struct RequestOrders {
  # Ask for this session's order and fill history after a reconnect: the
  # ExecutionReports with a sequence greater than sinceSequence, re-sent in
  # order with replayed = true, one page at most, then the account's
  # Positions, which end the answer and say whether more follows (more,
  # throughSequence) and what the core still keeps (oldestSequence,
  # sinceTooOld); all carry this request's requestId. To fetch everything,
  # ask again with sinceSequence = throughSequence while more is true.
  #
  # The core keeps a bounded number of reports per account (10,000 by
  # default): those numbered below oldestSequence are gone, except the latest
  # report of each order still working, which is re-sent (with its own,
  # older sequence) ahead of the kept ones, so a client that was away longer
  # still learns the state of every working order.

  sinceSequence @0 :UInt64;
  # The last ExecutionReport sequence the client holds; 0 = from the start.

  maxReports @1 :UInt32;
  # At most this many ExecutionReports in this answer; 0 = as many as the
  # core allows. The core caps it (1,000 by default).
}

struct Ping {
  # Liveness probe: answered by a Heartbeat that echoes the ClientMessage's
  # sentAt. No fields yet (new ones take new ordinals).
}

struct Reauthenticate {
  # Replace the connection's token with a fresh one (from POST /auth/refresh)
  # before the current one expires, without reconnecting. The core checks it
  # as it checks a handshake's (signature, issuer, audience, expiry, the
  # account store: registered, enabled, role, token epoch, not logged out)
  # and requires the connection's own account and role. Accepted: the
  # connection lives until the new token's expiry (and a logout of the new
  # token closes it), answered by a Heartbeat with this request's requestId.
  # Refused: a Reject (notAuthorised) saying why; the connection stays up
  # until the old token expires.

  token @0 :Text;
  # The new token, a compact JWT: 1 to 4096 bytes.
}

# ---------------------------------------------------------------------------
# Core to trader

struct ServerMessage {
  # The root of every frame the core sends.

  requestId @0 :UInt64;
  # The requestId of the ClientMessage this answers; 0 = unsolicited (market
  # data, fills of resting orders, heartbeats on idle).

  sentAt @1 :Int64;
  # The core's clock when it sent the frame (ns since the Unix epoch).

  union {
    executionReport @2 :ExecutionReport;
    reject @3 :Reject;
    bookSnapshot @4 :BookSnapshot;
    bookDelta @5 :BookDelta;
    trade @6 :Trade;
    quote @7 :Quote;
    heartbeat @8 :Heartbeat;
    resync @9 :Resync;
    positions @10 :Positions;
    error @11 :ServerError;
  }
}

struct ExecutionReport {
  # Something happened to one of the session's orders.

  sequence @0 :UInt64;
  # The session's execution sequence: 1, 2, 3... with no gaps, over all its
  # accounts. RequestOrders replays from it.

  execType @1 :ExecType;

  clientOrderId @2 :UInt64;
  # The order's id as the client gave it.

  orderId @3 :UInt64;
  # The order's id in the engine, unique across all sessions.

  account @4 :Text;
  # The account the order trades for.

  symbol @5 :Text;

  side @6 :Side;

  orderType @7 :OrderType;

  timeInForce @8 :TimeInForce;

  postOnly @9 :Bool;

  price @10 :Int64;
  # The order's limit price in price units (after a replace, the new one); 0
  # for a market order.

  leavesQuantity @11 :Int64;
  # Lots still open after this event; 0 once the order is done.

  cumQuantity @12 :Int64;
  # Lots filled so far, this event included.

  lastPrice @13 :Int64;
  # trade: the price of this fill, in price units (the resting order's price).

  lastQuantity @14 :Int64;
  # trade: the lots of this fill.

  tradeId @15 :UInt64;
  # trade: the trade's id, as in the market data Trade.

  liquidity @16 :Liquidity;
  # trade: whether this order was the maker or the taker.

  cancelReason @17 :CancelReason;
  # cancelled: why.

  engineTime @18 :Int64;
  # When the engine took the command that caused this event (ns since epoch).

  replayed @19 :Bool;
  # Sent again in answer to RequestOrders, not for the first time.

  cancelledQuantity @20 :Int64;
  # cancelled, expired: the lots this event took off the book (the order's
  # open quantity before it, whatever the cancelReason: a cancel, cancelAll,
  # self-trade prevention); 0 in other reports.
}

struct Reject {
  # A request was refused; nothing changed.

  reason @0 :RejectReason;

  message @1 :Text;
  # Human-readable detail, e.g. "Cannot place order: quantity must be positive".

  request @2 :RequestType;
  # Which kind of request was refused.

  clientOrderId @3 :UInt64;
  # The clientOrderId the refused request named (new order, cancel, replace);
  # 0 when it named none or could not be read.

  symbol @4 :Text;
  # The symbol the refused request named, when it named one.
}

struct Level {
  # One price level of a book.

  price @0 :Int64;
  # Price units.

  quantity @1 :Int64;
  # Total lots resting at this price.

  orderCount @2 :UInt32;
  # Number of orders resting at this price.
}

struct BookSnapshot {
  # The whole book of one symbol, as of a point in its channel.

  symbol @0 :Text;

  sequence @1 :UInt64;
  # The channel sequence this snapshot reflects: it includes every BookDelta
  # numbered up to this one; apply only deltas numbered after it.

  bids @2 :List(Level);
  # Best (highest price) first.

  asks @3 :List(Level);
  # Best (lowest price) first.

  engineTime @4 :Int64;
  # The engine time of the last event the snapshot includes.
}

struct LevelUpdate {
  # The new state of one price level.

  side @0 :Side;
  # buy = a bid level, sell = an ask level.

  price @1 :Int64;
  # Price units.

  quantity @2 :Int64;
  # The level's new total, in lots (absolute, not a difference); 0 removes
  # the level.

  orderCount @3 :UInt32;
  # The level's new number of orders; 0 when the level is removed.
}

struct BookDelta {
  # Changes to one symbol's book caused by one engine event, to be applied
  # together (a replace or a sweep changes several levels at once).

  symbol @0 :Text;

  sequence @1 :UInt64;
  # The channel sequence: one more than the previous message's on this
  # symbol's channel. A gap means messages were lost: request a snapshot.

  levels @2 :List(LevelUpdate);

  engineTime @3 :Int64;
}

struct Trade {
  # A public trade on one symbol.

  symbol @0 :Text;

  sequence @1 :UInt64;
  # The channel sequence (shared with BookDelta and Quote on this symbol).

  tradeId @2 :UInt64;

  price @3 :Int64;
  # Price units.

  quantity @4 :Int64;
  # Lots.

  aggressorSide @5 :Side;
  # The side of the incoming (taker) order.

  engineTime @6 :Int64;
}

struct Quote {
  # The best bid and offer of one symbol after a change.

  symbol @0 :Text;

  sequence @1 :UInt64;
  # The channel sequence (shared with BookDelta and Trade on this symbol).

  bidPrice @2 :Int64;
  # Price units; 0 when there is no bid.

  bidQuantity @3 :Int64;
  # Lots at the best bid; 0 when there is no bid.

  askPrice @4 :Int64;
  # Price units; 0 when there is no offer.

  askQuantity @5 :Int64;
  # Lots at the best offer; 0 when there is no offer.

  engineTime @6 :Int64;
}

struct Heartbeat {
  # Liveness: sent when the connection has been idle, and in answer to a Ping.

  intervalMs @0 :UInt32;
  # The core sends something at least this often; hearing nothing for three
  # intervals means the connection is dead.

  echoSentAt @1 :Int64;
  # The sentAt of the Ping this answers (0 when unsolicited), for round trips.

  executionSequence @2 :UInt64;
  # The session's latest ExecutionReport sequence: a client that holds less
  # missed reports and should send RequestOrders.
}

struct Resync {
  # Drop your copy of this symbol's book: its channel is no longer continuous.
  # A BookSnapshot follows; resume from its sequence.

  symbol @0 :Text;

  reason @1 :ResyncReason;

  message @2 :Text;
  # Human-readable detail.
}

struct Position {
  # One symbol's position of an account.

  symbol @0 :Text;

  netQuantity @1 :Int64;
  # Lots held: positive long, negative short.

  boughtQuantity @2 :Int64;
  # Lots bought so far.

  soldQuantity @3 :Int64;
  # Lots sold so far.

  boughtNotional @4 :Int64;
  # Sum of price x quantity over the buys (price units x lots).

  soldNotional @5 :Int64;
  # Sum of price x quantity over the sells (price units x lots).

  openBuyQuantity @6 :Int64;
  # Lots in working buy orders.

  openSellQuantity @7 :Int64;
  # Lots in working sell orders.
}

struct Positions {
  # An account's positions, after a RequestOrders replay or on change. In
  # answer to a RequestOrders, it ends the answer and says how the replay
  # stands (the fields from oldestSequence on; 0 and false otherwise).

  account @0 :Text;

  executionSequence @1 :UInt64;
  # The positions include every ExecutionReport up to this sequence.

  positions @2 :List(Position);
  # One per symbol the account has traded or has orders in.

  oldestSequence @3 :UInt64;
  # The oldest ExecutionReport sequence the core still keeps for the account
  # (executionSequence + 1 when it keeps none): older ones can no longer be
  # replayed, except each working order's latest.

  throughSequence @4 :UInt64;
  # The last sequence this answer re-sent (the request's sinceSequence when
  # it re-sent none): the sinceSequence to continue from.

  more @5 :Bool;
  # Reports after throughSequence were left for another page: ask again with
  # sinceSequence = throughSequence.

  sinceTooOld @6 :Bool;
  # The request's sinceSequence was older than the core keeps (sinceSequence
  # + 1 < oldestSequence): the reports between them are gone, and the answer
  # holds only the latest report of each order still working from then.
}

struct ServerError {
  # A problem that is not the refusal of one request: an unreadable frame, an
  # unknown message, a session-level failure.

  reason @0 :RejectReason;

  message @1 :Text;
  # Human-readable detail, e.g. "Cannot read frame: 70000 bytes, limit 65536".

  closing @2 :Bool;
  # The core closes the connection after this message. Bad input alone never
  # closes it.
}
