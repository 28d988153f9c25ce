using System.Net.Http.Headers;
using Alba;
using EventSourcedRegistry.Api.Tests.Support;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Limits;

/// <summary>
/// Issue 13, item 8: one upload at a time per caller (on the limited host; 4 by default) and a quota on the bytes the
/// artifact store holds (100,000 on the limited host; none by default). On main a caller could hold any number of
/// uploads open and fill the store.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class when_limiting_uploads(AppFixture app)
{
    private string StoreDirectory => Path.Combine(app.LimitedArtifactsDirectory, "sha256");

    private string[] Stored() => Directory.Exists(StoreDirectory)
        ? Directory.GetFiles(StoreDirectory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray()
        : [];

    private static async Task<RegistryCalls.Response> Upload(HttpClient client, HttpContent content)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await RegistryCalls.Read(await client.PostAsync("/api/v1/artifacts", content));
    }

    private static Task<RegistryCalls.Response> Upload(HttpClient client, byte[] bytes) => Upload(client, new ByteArrayContent(bytes));

    /// <summary>Sent without a Content-Length, as a stream of unknown length is.</summary>
    private static Task<RegistryCalls.Response> UploadChunked(HttpClient client, byte[] bytes) =>
        Upload(client, new StreamContent(new UnseekableStream(bytes)));

    private async Task<long> Reservations()
    {
        await using var connection = new NpgsqlConnection(app.LimitedConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select case when to_regclass('registry.artifact_quota_reservations') is null then 0 else (select count(*) from registry.artifact_quota_reservations) end",
            connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task a_second_upload_while_one_is_in_progress_is_429_and_stores_nothing()
    {
        var host = await app.LimitedHost();
        using var pipeline = AppFixture.FreshCaller(host, "contributor");
        using var other = AppFixture.FreshCaller(host, "contributor");
        var slow = new GatedStream(TestContent.Bytes(2200, 20_000), gateAfter: 4096);

        var inProgress = Upload(pipeline, new StreamContent(slow) { Headers = { ContentLength = 20_000 } });
        await slow.Reached.WaitAsync(TimeSpan.FromSeconds(60));
        // The endpoint has begun (it reserved room under the quota), so the upload holds its slot.
        for (var wait = 0; await Reservations() == 0; wait++)
        {
            Assert.True(wait < 600, "the first upload never reached the endpoint");
            await Task.Delay(100);
        }
        var second = TestContent.Bytes(2201, 100);
        var refused = await Upload(pipeline, second);
        var othersUpload = await Upload(other, TestContent.Bytes(2202, 100));
        slow.Open();
        var first = await inProgress;

        var problem = refused.AssertProblem(429);
        Assert.Contains("MaxConcurrentUploadsPerCaller", problem["detail"]!.GetValue<string>());
        Assert.NotNull(refused.Raw.Headers.RetryAfter);
        Assert.Equal(201, othersUpload.Status);
        Assert.Equal(201, first.Status);
        Assert.DoesNotContain(TestContent.Sha256(second), Stored());
        Assert.Equal(201, (await Upload(pipeline, second)).Status);      // the slot is free again
    }

    [Fact]
    public async Task an_upload_that_would_pass_the_quota_is_507_and_nothing_is_stored()
    {
        var host = await app.LimitedHost();
        using var first = AppFixture.FreshCaller(host, "contributor");
        using var second = AppFixture.FreshCaller(host, "contributor");
        Assert.Equal(201, (await Upload(first, TestContent.Bytes(2300, 60_000))).Status);
        var stored = Stored();

        var tooMuch = TestContent.Bytes(2301, 50_000);
        var problem = (await Upload(second, tooMuch)).AssertProblem(507);

        Assert.Contains("Registry:Artifacts:QuotaBytes", problem["detail"]!.GetValue<string>());
        Assert.Contains(AppFixture.LimitedQuotaBytes.ToString(), problem["detail"]!.GetValue<string>());
        Assert.Equal(stored, Stored());
        Assert.Equal(0, await Reservations());
        // What fits is taken.
        Assert.Equal(201, (await Upload(second, TestContent.Bytes(2302, 30_000))).Status);
        Assert.Equal(0, await Reservations());
    }

    [Fact]
    public async Task bytes_stored_already_count_as_new_so_the_quota_answer_leaks_nothing()
    {
        var host = await app.LimitedHost();
        using var owner = AppFixture.FreshCaller(host, "contributor");
        using var prober = AppFixture.FreshCaller(host, "contributor");
        var stored = TestContent.Bytes(2400, 60_000);
        Assert.Equal(201, (await Upload(owner, stored)).Status);

        var probe = await Upload(prober, stored);                                // stored already
        var fresh = await Upload(prober, TestContent.Bytes(2401, 60_000));       // not stored

        Assert.Equal(fresh.AssertProblem(507).ToJsonString(), probe.AssertProblem(507).ToJsonString().Replace(
            probe.Body!["traceId"]!.GetValue<string>(), fresh.Body!["traceId"]!.GetValue<string>()));
        Assert.Single(Stored());
    }

    [Fact]
    public async Task an_upload_of_unknown_length_stops_at_the_room_left_and_stores_nothing()
    {
        var host = await app.LimitedHost();
        using var pipeline = AppFixture.FreshCaller(host, "contributor");

        var problem = (await UploadChunked(pipeline, TestContent.Bytes(2500, 120_000))).AssertProblem(507);

        Assert.Contains("QuotaBytes", problem["detail"]!.GetValue<string>());
        Assert.Empty(Stored());
        Assert.Empty(Directory.Exists(StoreDirectory) ? Directory.GetFiles(StoreDirectory, ".upload-*") : []);
        Assert.Equal(0, await Reservations());
        Assert.Equal(201, (await UploadChunked(pipeline, TestContent.Bytes(2501, 50_000))).Status);
    }

    /// <summary>A body of unknown length (no Content-Length: sent chunked).</summary>
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    /// <summary>Gives its first bytes, then holds the upload open until <see cref="Open"/>.</summary>
    private sealed class GatedStream(byte[] bytes, int gateAfter) : Stream
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _position;

        public Task Reached => _reached.Task;
        public void Open() => _open.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_position >= gateAfter)
            {
                _reached.TrySetResult();
                await _open.Task.WaitAsync(ct);
            }
            var count = Math.Min(buffer.Length, (_position < gateAfter ? gateAfter : bytes.Length) - _position);
            bytes.AsMemory(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
