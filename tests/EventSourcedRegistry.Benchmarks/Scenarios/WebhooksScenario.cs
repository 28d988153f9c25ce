using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Benchmarks.Infrastructure;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>
/// Issue 16's webhook targets, end to end against the main API: a local receiver (<see cref="WebhookReceiver"/>, checking
/// every delivery's signature), a subscription to it for stage transitions, and promotions sent open-loop at
/// <see cref="PerSecond"/> a second on <see cref="ModelCount"/> models of the scenario's own (each model's promotions take
/// turns, so each model's order is known).
/// <list type="number">
/// <item>Latency: from the promotion's 200 coming back to its delivery arriving, p50 and p99 against 250 ms; the floor is
/// the harness's own signed HTTP round trip to the same receiver.</item>
/// <item>Outage: the receiver answers 503 for <see cref="BenchSizes.WebhookOutage"/> while the promotions go on; from its
/// return, the time until every event acknowledged before it has arrived, against 2 minutes. Promotions go on during the
/// drain too, as they would.</item>
/// </list>
/// Both rows also check that every acknowledged promotion arrived and that each model's arrived in the order it committed.
/// </summary>
public sealed class WebhooksScenario : IScenario
{
    public const int PerSecond = 50;
    public const int ModelCount = 50;
    private const int WarmupPromotions = 250;
    private const int FloorRoundTrips = 1_000;
    private const string ReasonPrefix = "webhook benchmark #";
    private const string EventType = "model_version_stage_transitioned";
    private static readonly TimeSpan LatencyTarget = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan DrainTarget = TimeSpan.FromMinutes(2);
    /// <summary>How long after the receiver's return the scenario waits for the backlog before it reports a failure.</summary>
    private static readonly TimeSpan DrainGiveUp = TimeSpan.FromMinutes(8);
    private static readonly TimeSpan SettleWait = TimeSpan.FromSeconds(60);

    public async Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct)
    {
        await using var receiver = WebhookReceiver.Start();
        var models = await SetUpModelsAsync(context, ct);
        var (subscription, secret) = await SubscribeAsync(context, receiver.Endpoint + "/hooks/registry", ct);
        receiver.Secret = secret;
        context.Log($"webhooks: receiver on {receiver.Endpoint}, subscription {subscription}, {models.Count} models");
        try
        {
            var floor = await FloorAsync(receiver, secret, ct);
            context.Log($"webhooks: harness → receiver round trip {floor.Describe()}");
            var pacer = new Pacer(context, models);
            var arrivals = new Arrivals(receiver);

            await pacer.RunAsync(WarmupPromotions, () => false, ct);
            await WaitForAsync(() => arrivals.Cover(pacer, 0, pacer.Next), SettleWait, ct);
            context.ResetFailure();

            var from = pacer.Next;
            var before = context.CpuNow();
            await pacer.RunAsync(context.Sizes.WebhookPromotions, () => false, ct);
            var settled = await WaitForAsync(() => arrivals.Cover(pacer, from, pacer.Next), SettleWait, ct);
            context.RecordCpu($"webhooks: {PerSecond} promotions/s with their deliveries", before, pacer.Next - from);
            var latency = arrivals.Latency(pacer, from, pacer.Next);
            var latencyFailure = context.FirstFailure;
            context.Log($"webhooks: {latency.Count} deliveries, 2xx → receipt {latency.Describe()}, pacing lag ≤ {LatencyStats.Ms(pacer.MaxLagMs)}" +
                        (settled ? "" : ", some never arrived"));
            var latencyRow = LatencyRow(context, pacer, arrivals, floor, latency, from, latencyFailure);

            // The outage: 503 for its whole length, the promotions going on at the same rate, then the receiver is back.
            context.ResetFailure();
            var outageFrom = pacer.Next;
            var refusedBefore = receiver.Refused;
            receiver.Down = true;
            var stop = false;
            var pacing = pacer.RunAsync(int.MaxValue, () => Volatile.Read(ref stop), ct);
            var outage = context.Sizes.WebhookOutage;
            context.Log($"webhooks: the receiver answers 503 for {Describe(outage)}, promotions going on at {PerSecond}/s");
            await Task.Delay(outage, ct);
            var returned = Stopwatch.GetTimestamp();
            receiver.Down = false;
            var backlog = pacer.AckedBefore(returned).Where(i => i >= outageFrom).ToList();
            context.Log($"webhooks: the receiver is back; {backlog.Count} promotions acknowledged during the outage wait for delivery");
            var drained = await WaitForAsync(() => arrivals.Cover(backlog), DrainGiveUp, ct);
            Volatile.Write(ref stop, true);
            await pacing;
            var all = await WaitForAsync(() => arrivals.Cover(pacer, outageFrom, pacer.Next), SettleWait, ct);
            var drain = arrivals.Drain(backlog, returned);
            context.Log($"webhooks: {(drained ? $"drained in {drain.Seconds:0.0} s" : "not drained")}, first delivery {drain.FirstAfter:0.0} s after the return, " +
                        $"{receiver.Refused - refusedBefore} attempts answered 503" + (all ? "" : "; some later promotions never arrived"));
            return [latencyRow, DrainRow(context, pacer, arrivals, receiver, floor, drain, drained, outageFrom, receiver.Refused - refusedBefore)];
        }
        finally
        {
            // The subscription is not left behind for later scenarios (nor its dispatcher's work).
            await context.SendAsync(HttpMethod.Delete, $"/api/v1/subscriptions/{subscription}", null, 204, CancellationToken.None);
        }
    }

    private static string Describe(TimeSpan span) =>
        span.TotalMinutes >= 1 ? $"{span.TotalMinutes:0.#} min" : $"{span.TotalSeconds:0} s";

    private static ResultRow LatencyRow(BenchContext context, Pacer pacer, Arrivals arrivals, LatencyStats floor, LatencyStats latency, int from,
        string? failure)
    {
        var check = arrivals.Check(pacer, from, pacer.Next);
        var pass = latency.Count > 0 && latency.P99 <= LatencyTarget.TotalMilliseconds && check.Clean && pacer.FailuresIn(from, pacer.Next) == 0;
        return new ResultRow($"webhooks: promotion's 2xx → delivery at a local receiver, {PerSecond} promotions/s open-loop",
            $"{latency.Describe()} ({latency.Count:N0} deliveries, max {LatencyStats.Ms(latency.Max)})",
            $"{floor.Describe()} signed POST harness → receiver",
            ResultRow.Times(latency.P99 / floor.P99),
            $"p99 ≤ {LatencyTarget.TotalMilliseconds:0} ms, all delivered, in order",
            pass ? Verdict.Pass : Verdict.Fail,
            $"{check.Describe()}; pacing lag ≤ {LatencyStats.Ms(pacer.MaxLagMs)}" +
            (pacer.FailuresIn(from, pacer.Next) is > 0 and var f ? $"; {f} promotions got an unexpected answer, first: {failure}" : ""));
    }

    private static ResultRow DrainRow(BenchContext context, Pacer pacer, Arrivals arrivals, WebhookReceiver receiver, LatencyStats floor,
        DrainFacts drain, bool drained, int outageFrom, long refused)
    {
        var check = arrivals.Check(pacer, outageFrom, pacer.Next);
        var failures = pacer.FailuresIn(outageFrom, pacer.Next);
        var pass = drained && drain.Seconds <= DrainTarget.TotalSeconds && check.Clean && failures == 0;
        // The floor of one-at-a-time delivery: one event per harness → receiver round trip.
        var floorRate = 1000 / floor.P50;
        var outage = Describe(context.Sizes.WebhookOutage);
        return new ResultRow($"webhooks: drain after a {outage} receiver outage (503), {PerSecond} promotions/s throughout ({context.Options.ModeName} mode)",
            drained
                ? $"{drain.Backlog:N0} held deliveries in {drain.Seconds:0.0} s: first {drain.FirstAfter:0.0} s after the return, then {LoadResult.Rate(drain.Rate, "events/s")}"
                : $"not drained {DrainGiveUp.TotalMinutes:0} min after the return ({drain.Arrived:N0} of {drain.Backlog:N0} arrived)",
            $"{LoadResult.Rate(floorRate, "events/s")} one round trip at a time",
            drained ? ResultRow.Times(drain.Rate / floorRate) : "—",
            $"≤ {DrainTarget.TotalMinutes:0} min after the return, in order, none missing",
            pass ? Verdict.Pass : Verdict.Fail,
            $"outage {outage} in {context.Options.ModeName} mode{(context.Options.Mode == BenchMode.Full ? "" : $" (full mode: {Describe(BenchSizes.Full.WebhookOutage)})")}; " +
            $"{refused:N0} attempts answered 503; {check.Describe()}" +
            (failures > 0 ? $"; {failures} promotions got an unexpected answer, first: {context.FirstFailure}" : "") +
            (receiver.BadSignatures > 0 ? $"; {receiver.BadSignatures} deliveries failed the signature check" : ""));
    }

    /// <summary>The scenario's own models, each with a version 1 in stage None, so their every stage transition is ours.</summary>
    private static async Task<IReadOnlyList<string>> SetUpModelsAsync(BenchContext context, CancellationToken ct)
    {
        var body = RegisterVersionScenario.Body(context.Options.Seed);
        var models = Enumerable.Range(0, ModelCount).Select(i => "bench-hook-" + i.ToString("D2", CultureInfo.InvariantCulture)).ToList();
        foreach (var model in models)
        {
            var ok = await context.SendAsync(HttpMethod.Post, "/api/v1/models",
                         JsonSerializer.SerializeToUtf8Bytes(new { name = model, description = "webhook benchmark" }), 201, ct)
                     && await context.SendAsync(HttpMethod.Post, $"/api/v1/models/{model}/versions", body, 201, ct);
            if (!ok) throw new InvalidOperationException($"Setting up the webhook scenario's models failed: {context.FirstFailure}");
        }
        return models;
    }

    private static async Task<(Guid Id, string Secret)> SubscribeAsync(BenchContext context, string target, CancellationToken ct)
    {
        using var response = await context.Http.PostAsJsonAsync("/api/v1/subscriptions",
            new { targetUrl = target, eventTypes = new[] { EventType }, reason = "webhook benchmark" }, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if ((int)response.StatusCode != 201)
            throw new InvalidOperationException($"Subscribing the receiver answered {(int)response.StatusCode}: {text}");
        var json = JsonNode.Parse(text)!;
        return (json["subscription"]!["id"]!.GetValue<Guid>(), json["secret"]!.GetValue<string>());
    }

    /// <summary>The harness's own signed POSTs of a delivery-sized body to the receiver, one at a time, after a warm-up.</summary>
    private static async Task<LatencyStats> FloorAsync(WebhookReceiver receiver, string secret, CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        var target = new Uri(receiver.Endpoint + "/floor");
        async Task<long> Once(int i)
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(new
            {
                specversion = "1.0", id = $"floor-{i}", source = "/workspaces/default/models/floor", type = "io.eventsourcedregistry." + EventType,
                subject = "floor", time = DateTimeOffset.UtcNow, datacontenttype = "application/json",
                data = new { eventType = EventType, sequence = i, model = "floor", version = 1, actor = "bench", reason = "floor", correlationId = Guid.NewGuid(),
                    @event = new { from = "Staging", to = "Production", archiveExisting = false } },
            });
            using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("application/cloudevents+json; charset=utf-8");
            request.Headers.TryAddWithoutValidation("Registry-Signature", WebhookReceiver.Sign(secret, body));
            var started = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(request, ct);
            var took = Stopwatch.GetTimestamp() - started;
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"The receiver answered the harness {(int)response.StatusCode}.");
            return took;
        }
        for (var i = 0; i < BenchSizes.WarmupFor(FloorRoundTrips); i++) await Once(i);
        var ticks = new long[FloorRoundTrips];
        for (var i = 0; i < FloorRoundTrips; i++) ticks[i] = await Once(i);
        return LatencyStats.FromTicks(ticks);
    }

    private static async Task<bool> WaitForAsync(Func<bool> done, TimeSpan limit, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > limit) return false;
            await Task.Delay(100, ct);
        }
        return true;
    }

    /// <summary>One promotion: when its answer came back (stopwatch ticks) and whether it was the expected 200.</summary>
    private sealed record Promotion(int Index, int Model, long Acked, bool Ok);

    /// <summary>
    /// Open-loop pacing: promotion k of a run is sent at start + k / <see cref="PerSecond"/> whether or not the earlier ones
    /// have been answered. Promotion i moves model i mod <see cref="ModelCount"/>, between Staging and Production; one
    /// model's promotions take turns (each model gets one a second, so a turn is hardly ever waited for), which makes the
    /// order they committed in the order they were answered in.
    /// </summary>
    private sealed class Pacer(BenchContext context, IReadOnlyList<string> models)
    {
        private readonly SemaphoreSlim[] _turns = [.. models.Select(_ => new SemaphoreSlim(1, 1))];
        private readonly string[] _stages = [.. models.Select(_ => "None")];
        private readonly ConcurrentDictionary<int, Promotion> _done = new();
        private readonly List<int>[] _committed = [.. models.Select(_ => new List<int>())];
        private long _maxLag;

        public int Next { get; private set; }
        public int ModelOf(int index) => index % models.Count;
        public double MaxLagMs => Interlocked.Read(ref _maxLag) * 1000.0 / Stopwatch.Frequency;
        public Promotion? Find(int index) => _done.GetValueOrDefault(index);

        /// <summary>The promotions of a model that were answered 200, in the order they committed.</summary>
        public IReadOnlyList<int> Committed(int model) => _committed[model];

        public IEnumerable<int> AckedBefore(long ticks) => _done.Values.Where(p => p.Ok && p.Acked < ticks).Select(p => p.Index);

        public int FailuresIn(int from, int to) => _done.Values.Count(p => p.Index >= from && p.Index < to && !p.Ok);

        public async Task RunAsync(int count, Func<bool> stop, CancellationToken ct)
        {
            var sent = new List<Task>();
            var start = Stopwatch.GetTimestamp();
            for (var k = 0; k < count && !stop(); k++)
            {
                var due = start + k * Stopwatch.Frequency / PerSecond;
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > 0) await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), ct);
                var lag = Stopwatch.GetTimestamp() - due;
                if (lag > Interlocked.Read(ref _maxLag)) Interlocked.Exchange(ref _maxLag, lag);
                sent.Add(PromoteAsync(Next++, ct));
            }
            await Task.WhenAll(sent);
        }

        private async Task PromoteAsync(int index, CancellationToken ct)
        {
            var model = ModelOf(index);
            await _turns[model].WaitAsync(ct);
            try
            {
                var stage = _stages[model] == "Staging" ? "Production" : "Staging";
                var ok = await context.SendAsync(HttpMethod.Post, $"/api/v1/models/{models[model]}/versions/1/stage",
                    JsonSerializer.SerializeToUtf8Bytes(new { stage, reason = ReasonPrefix + index.ToString(CultureInfo.InvariantCulture) }), 200, ct);
                var acked = Stopwatch.GetTimestamp();
                if (ok)
                {
                    _stages[model] = stage;
                    _committed[model].Add(index);
                }
                _done[index] = new Promotion(index, model, acked, ok);
            }
            finally
            {
                _turns[model].Release();
            }
        }
    }

    private sealed record DrainFacts(int Backlog, int Arrived, double Seconds, double FirstAfter, double Rate);

    /// <summary>What an order check over a range of promotions found.</summary>
    private sealed record Check(int Expected, int Missing, int OutOfOrder, int Unexpected, int Duplicates)
    {
        public bool Clean => Missing == 0 && OutOfOrder == 0 && Unexpected == 0;

        public string Describe() =>
            $"{Expected:N0} promotions acknowledged: {Missing} missing, {OutOfOrder} out of order per model, {Unexpected} unexpected" +
            $" (duplicates, allowed at least once: {Duplicates})";
    }

    /// <summary>The receiver's deliveries, by the promotion each carries (its reason names it), the first arrival of each.</summary>
    private sealed class Arrivals(WebhookReceiver receiver)
    {
        private Dictionary<int, Receipt> _first = [];
        private int _seen = -1;

        private Dictionary<int, Receipt> First()
        {
            var receipts = receiver.Receipts;
            if (receipts.Count == _seen) return _first;
            var first = new Dictionary<int, Receipt>();
            foreach (var r in receipts)
            {
                if (r.Reason is not { } reason || !reason.StartsWith(ReasonPrefix, StringComparison.Ordinal)) continue;
                var index = int.Parse(reason.AsSpan(ReasonPrefix.Length), CultureInfo.InvariantCulture);
                if (!first.TryGetValue(index, out var earlier) || r.Order < earlier.Order) first[index] = r;
            }
            _seen = receipts.Count;
            return _first = first;
        }

        private int Duplicates(int from, int to)
        {
            var ours = receiver.Receipts.Where(r => Index(r) is { } i && i >= from && i < to).ToList();
            return ours.Count - ours.Select(r => r.DeliveryId).Distinct().Count();
        }

        private static int? Index(Receipt r) =>
            r.Reason is { } reason && reason.StartsWith(ReasonPrefix, StringComparison.Ordinal)
                ? int.Parse(reason.AsSpan(ReasonPrefix.Length), CultureInfo.InvariantCulture)
                : null;

        /// <summary>Whether every promotion in [from, to) has been answered and, when it was answered 200, delivered.</summary>
        public bool Cover(Pacer pacer, int from, int to)
        {
            var first = First();
            for (var i = from; i < to; i++)
                if (pacer.Find(i) is not { } p || (p.Ok && !first.ContainsKey(i))) return false;
            return true;
        }

        public bool Cover(IEnumerable<int> indices)
        {
            var first = First();
            return indices.All(first.ContainsKey);
        }

        public LatencyStats Latency(Pacer pacer, int from, int to)
        {
            var first = First();
            var ticks = new List<long>();
            for (var i = from; i < to; i++)
                if (pacer.Find(i) is { Ok: true } p && first.TryGetValue(i, out var r)) ticks.Add(r.Arrived - p.Acked);
            return LatencyStats.FromTicks(ticks);
        }

        public DrainFacts Drain(IReadOnlyCollection<int> backlog, long returned)
        {
            var first = First();
            var arrived = backlog.Where(first.ContainsKey).Select(i => first[i].Arrived).ToList();
            var afterReturn = first.Values.Where(r => r.Arrived >= returned).Select(r => r.Arrived).DefaultIfEmpty(returned).Min();
            var last = arrived.DefaultIfEmpty(returned).Max();
            double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;
            var sending = Seconds(last - afterReturn);
            return new DrainFacts(backlog.Count, arrived.Count, Seconds(last - returned), Seconds(afterReturn - returned),
                sending > 0 ? arrived.Count / sending : 0);
        }

        /// <summary>
        /// For each model, its promotions in [from, to) that were answered 200, in commit order, against the deliveries that
        /// carried them, in arrival order: a promotion never delivered is missing, a delivery arriving before one that
        /// committed earlier is out of order, a delivery of a promotion not answered 200 is unexpected.
        /// </summary>
        public Check Check(Pacer pacer, int from, int to)
        {
            var first = First();
            int expected = 0, missing = 0, outOfOrder = 0, unexpected = 0;
            for (var model = 0; model < ModelCount; model++)
            {
                var committed = pacer.Committed(model).Where(i => i >= from && i < to).ToList();
                var position = committed.Select((index, at) => (index, at)).ToDictionary(x => x.index, x => x.at);
                expected += committed.Count;
                missing += committed.Count(i => !first.ContainsKey(i));
                var delivered = first.Where(kv => kv.Key >= from && kv.Key < to && pacer.ModelOf(kv.Key) == model)
                    .OrderBy(kv => kv.Value.Order).ToList();
                var highest = -1;
                long sequence = -1;
                foreach (var (index, receipt) in delivered)
                {
                    if (!position.TryGetValue(index, out var at))
                    {
                        unexpected++;
                        continue;
                    }
                    if (at < highest || receipt.Sequence <= sequence) outOfOrder++;
                    highest = Math.Max(highest, at);
                    sequence = Math.Max(sequence, receipt.Sequence);
                }
            }
            return new Check(expected, missing, outOfOrder, unexpected, Duplicates(from, to));
        }
    }
}
