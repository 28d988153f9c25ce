using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace EventSourcedRegistry.CrashTests.Support;

/// <summary>One version registration: its Idempotency-Key, and the body derived from it (so a stored version proves which write it is).</summary>
public sealed record Write(string Key, string Model, int Writer, int Seq)
{
    public string Sha256 { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key)));

    public object Body => new
    {
        artifact = new { uri = $"file:///crash/{Key}.bin", sha256 = Sha256, sizeBytes = 1 },
        description = Key,
        metadata = new { key = Key, writer = Writer, seq = Seq },
    };
}

/// <summary>A write the registry acknowledged (2xx), with the version it answered; <c>Replayed</c>: answered from the idempotency record.</summary>
public sealed record Ack(Write Write, int Version, bool Replayed);

/// <summary>
/// Writers that register versions with Idempotency-Keys, as a pipeline would: an unanswered request (connection
/// reset, timeout) or a 5xx is retried with the same key and body until the registry answers it for good. Only what
/// was answered 2xx counts as acknowledged. Each writer writes one model; writers share models, so they race.
/// </summary>
public sealed class VersionWriters(HttpClient http, IReadOnlyList<string> models, int writers, Func<int, Uri> target, string runId)
{
    private readonly ConcurrentQueue<Ack> _acks = new();
    private readonly ConcurrentQueue<(Write Write, HttpStatusCode Status, string Body)> _refused = new();
    private readonly ConcurrentQueue<Write> _unresolved = new();
    private readonly ConcurrentDictionary<int, int> _statuses = new();
    private int _retries;
    private int _unanswered;

    public IReadOnlyCollection<Ack> Acks => _acks;
    public int AckCount => _acks.Count;
    /// <summary>4xx answers: none is expected (writes on a live model are always valid).</summary>
    public IReadOnlyCollection<(Write Write, HttpStatusCode Status, string Body)> Refused => _refused;
    /// <summary>Writes still unanswered when the run ended: in doubt, they may or may not be stored.</summary>
    public IReadOnlyCollection<Write> Unresolved => _unresolved;
    public int Retries => _retries;
    public int Unanswered => _unanswered;
    public int CountOf(int status) => _statuses.GetValueOrDefault(status);
    public string Statuses => string.Join(", ", _statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}"));

    /// <summary>Writes until <paramref name="stop"/>; a write in flight then is still driven to an answer (for at most <paramref name="settle"/>).</summary>
    public async Task Run(CancellationToken stop, TimeSpan settle)
    {
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() => Writer(w, stop, settle))));
    }

    /// <summary>Waits until at least <paramref name="count"/> more writes were acknowledged and <paramref name="atLeast"/> passed.</summary>
    public async Task WaitForMoreAcks(int count, TimeSpan atLeast, TimeSpan timeout)
    {
        var from = AckCount;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < atLeast || AckCount - from < count)
        {
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"Only {AckCount - from} writes were acknowledged in {timeout} (statuses {Statuses}, unanswered {Unanswered}).");
            await Task.Delay(100);
        }
    }

    private async Task Writer(int writer, CancellationToken stop, TimeSpan settle)
    {
        var model = models[writer % models.Count];
        for (var seq = 1; !stop.IsCancellationRequested; seq++)
        {
            var write = new Write($"{runId}-w{writer}-{seq}", model, writer, seq);
            if (!await Resolve(write, writer, stop, settle)) _unresolved.Enqueue(write);
        }
    }

    // Sends the write until it is answered for good (2xx or 4xx). Returns false when it is still unanswered at the end.
    private async Task<bool> Resolve(Write write, int writer, CancellationToken stop, TimeSpan settle)
    {
        var giveUp = new Stopwatch();
        var delay = TimeSpan.FromMilliseconds(50);
        for (var attempt = 0; ; attempt++)
        {
            if (attempt > 0)
            {
                Interlocked.Increment(ref _retries);
                await Task.Delay(delay);
                delay = delay * 2 > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : delay * 2;
            }
            if (stop.IsCancellationRequested && !giveUp.IsRunning) giveUp.Start();
            if (giveUp.Elapsed > settle) return false;

            var outcome = await Send(http, target(writer), write);
            if (outcome.Status is null) { Interlocked.Increment(ref _unanswered); continue; }
            _statuses.AddOrUpdate((int)outcome.Status, 1, (_, n) => n + 1);
            if ((int)outcome.Status >= 500) continue;
            if (outcome.Ack is { } ack) _acks.Enqueue(ack);
            else _refused.Enqueue((write, outcome.Status.Value, outcome.Body));
            return true;
        }
    }

    public sealed record Outcome(HttpStatusCode? Status, Ack? Ack, string Body);

    /// <summary>One attempt; Status null when no answer came (the connection broke or timed out).</summary>
    public static async Task<Outcome> Send(HttpClient http, Uri node, Write write)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(node, $"api/v1/models/{write.Model}/versions"))
        {
            Content = JsonContent.Create(write.Body),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("ApiKey", ApiNode.AdminKey);
        request.Headers.Add("Idempotency-Key", write.Key);
        try
        {
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) return new Outcome(response.StatusCode, null, body);
            var version = JsonNode.Parse(body)!["version"]!.GetValue<int>();
            var replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Contains("true");
            return new Outcome(response.StatusCode, new Ack(write, version, replayed), body);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return new Outcome(null, null, e.Message);
        }
    }
}
