using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Artifacts;

/// <summary>
/// The built API as its own process behind Kestrel (not the in-process test server), on the run's PostgreSQL:
/// a 1 GiB upload passes Kestrel's 30 MB default body limit, and the process's resident memory grows by
/// less than 64 MiB while it streams, sampled from /proc.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class when_uploading_a_large_artifact_to_a_real_server(AppFixture app, Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const long OneGiB = 1024L * 1024 * 1024;
    private const long MaxGrowth = 64L * 1024 * 1024;
    private readonly string _artifacts = Path.Combine(Path.GetTempPath(), $"esr-kestrel-artifacts-{Guid.NewGuid():N}");

    [Fact]
    public async Task a_1_gib_upload_streams_through_in_bounded_memory()
    {
        if (!OperatingSystem.IsLinux()) return; // resident memory is read from /proc

        await using var api = await ApiProcess.Start(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Registry"] = app.ConnectionString,
            ["Registry__Artifacts__Directory"] = _artifacts,
            ["Logging__LogLevel__Default"] = "Warning",
        }, TimeSpan.FromMinutes(5));
        // Warm up the upload path, so what follows measures the streaming, not the first-call JIT.
        var warm = await api.Client.PostAsync("/api/v1/artifacts", new ByteArrayContent(new byte[1024 * 1024]));
        Assert.Equal(HttpStatusCode.Created, warm.StatusCode);
        var baseline = api.ResidentBytes();

        var peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, api.ResidentBytes());
                try { await Task.Delay(20, sampling.Token); }
                catch (OperationCanceledException) { }
            }
        });
        var content = new StreamContent(new RepeatingStream(OneGiB), 1024 * 1024);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.ContentLength = OneGiB;
        var response = await api.Client.PostAsync("/api/v1/artifacts", content);
        await sampling.CancelAsync();
        await sampler;

        output.WriteLine($"resident memory: baseline {baseline / (1024 * 1024)} MiB, peak {peak / (1024 * 1024)} MiB during the upload");
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(OneGiB, body!["sizeBytes"]!.GetValue<long>());
        Assert.Equal(OneGiB, new FileInfo(Path.Combine(_artifacts, "sha256", body["sha256"]!.GetValue<string>())).Length);
        Assert.True(peak - baseline < MaxGrowth,
            $"resident memory grew by {(peak - baseline) / (1024 * 1024)} MiB during a 1 GiB upload (baseline {baseline / (1024 * 1024)} MiB)");
    }

    public void Dispose()
    {
        if (Directory.Exists(_artifacts)) Directory.Delete(_artifacts, recursive: true);
    }

    /// <summary>The same random mebibyte over and over: cheap to produce, so the client costs nothing measurable.</summary>
    private sealed class RepeatingStream(long length) : Stream
    {
        private readonly byte[] _block = TestContent.Bytes(7, 1024 * 1024);
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var offset = (int)(_position % _block.Length);
            var n = (int)Math.Min(Math.Min(buffer.Length, _block.Length - offset), length - _position);
            _block.AsSpan(offset, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => ValueTask.FromResult(Read(buffer.Span));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => Task.FromResult(Read(buffer.AsSpan(offset, count)));
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
