using System.Net;
using System.Net.Sockets;

namespace EventSourcedRegistry.Benchmarks.Infrastructure;

/// <summary>
/// A stand-in for an OpenTelemetry collector on a loopback port: accepts every OTLP/HTTP export (traces, metrics, logs),
/// reads it whole, answers 200 and keeps only counts. The cost measured is the API's (recording, batching, encoding,
/// sending), not a collector's.
/// </summary>
public sealed class OtlpSink : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private long _exports;
    private long _bytes;

    private OtlpSink(int port)
    {
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public string Endpoint { get; }
    public long Exports => Interlocked.Read(ref _exports);
    public long Bytes => Interlocked.Read(ref _bytes);

    public static OtlpSink Start()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new OtlpSink(port);
    }

    private async Task Serve()
    {
        var buffer = new byte[64 * 1024];
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            try
            {
                int read;
                while ((read = await context.Request.InputStream.ReadAsync(buffer)) > 0) Interlocked.Add(ref _bytes, read);
                Interlocked.Increment(ref _exports);
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
            }
            catch (Exception e) when (e is HttpListenerException or IOException)
            {
                context.Response.StatusCode = 400;
            }
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try { await _loop; } catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { }
    }
}
