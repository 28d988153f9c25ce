using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;

namespace EventSourcedRegistry.Api.Tests.Observability;

/// <summary>A span as an OTLP collector receives it: ids in lower-case hex, string, int and bool attributes.</summary>
public sealed record ReceivedSpan(string Scope, string TraceId, string SpanId, string? ParentSpanId, string Name, int Kind,
    IReadOnlyDictionary<string, string> Attributes)
{
    public const int ServerKind = 2;
}

/// <summary>
/// A stand-in for an OpenTelemetry collector: an HTTP listener on a free local port that accepts OTLP/HTTP protobuf
/// (<c>POST /v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>), answers 200 with an empty export response, and decodes the
/// spans of every trace export. The wire format is read field by field with Google.Protobuf's CodedInputStream; the
/// field numbers are those of opentelemetry-proto (github.com/open-telemetry/opentelemetry-proto:
/// opentelemetry/proto/collector/trace/v1/trace_service.proto, trace/v1/trace.proto, common/v1/common.proto).
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private readonly Task _loop;

    public OtlpCollector()
    {
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public int Port { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";
    public int TraceExports;
    public IReadOnlyCollection<ReceivedSpan> Spans => _spans.ToArray();

    /// <summary>Polls the received spans until <paramref name="done"/> holds or the timeout passes (exports are batched).</summary>
    public async Task<IReadOnlyCollection<ReceivedSpan>> WaitFor(Func<IReadOnlyCollection<ReceivedSpan>, bool> done, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var spans = Spans;
            if (done(spans) || DateTime.UtcNow > until) return spans;
            await Task.Delay(100);
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) when (!_listener.IsListening) { return; }
            catch (HttpListenerException) { return; }
            catch (ObjectDisposedException) { return; }
            try
            {
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                if (context.Request.Url?.AbsolutePath == "/v1/traces")
                {
                    foreach (var span in ReadExportTraceServiceRequest(body.ToArray())) _spans.Enqueue(span);
                    Interlocked.Increment(ref TraceExports);
                }
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
            }
            catch (Exception)
            {
                context.Response.StatusCode = 400;
            }
            context.Response.Close();
        }
    }

    /// <summary>ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }</summary>
    public static IEnumerable<ReceivedSpan> ReadExportTraceServiceRequest(byte[] message)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var resourceSpans in Fields(message, 1))
            // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
            foreach (var scopeSpans in Fields(resourceSpans, 2))
            {
                // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }, InstrumentationScope { string name = 1; }
                var scope = Fields(scopeSpans, 1).Select(s => Fields(s, 1).Select(Text).FirstOrDefault()).FirstOrDefault() ?? "";
                spans.AddRange(Fields(scopeSpans, 2).Select(span => ReadSpan(scope, span)));
            }
        return spans;
    }

    /// <summary>
    /// Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; SpanKind kind = 6;
    /// repeated KeyValue attributes = 9; }
    /// </summary>
    private static ReceivedSpan ReadSpan(string scope, byte[] span)
    {
        string? traceId = null, spanId = null, parent = null, name = null;
        var kind = 0;
        var attributes = new Dictionary<string, string>();
        var input = new CodedInputStream(span);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: traceId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 2: spanId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 4:
                    var parentBytes = input.ReadBytes();
                    parent = parentBytes.IsEmpty ? null : Convert.ToHexStringLower(parentBytes.ToByteArray());
                    break;
                case 5: name = input.ReadString(); break;
                case 6: kind = input.ReadEnum(); break;
                case 9:
                    var (key, value) = ReadKeyValue(input.ReadBytes().ToByteArray());
                    attributes[key] = value;
                    break;
                default: input.SkipLastField(); break;
            }
        }
        return new ReceivedSpan(scope, traceId ?? "", spanId ?? "", parent, name ?? "", kind, attributes);
    }

    /// <summary>
    /// KeyValue { string key = 1; AnyValue value = 2; }, AnyValue { oneof: string string_value = 1; bool bool_value = 2;
    /// int64 int_value = 3; double double_value = 4; ... }
    /// </summary>
    private static (string Key, string Value) ReadKeyValue(byte[] keyValue)
    {
        var key = Fields(keyValue, 1).Select(Text).FirstOrDefault() ?? "";
        var value = "";
        foreach (var any in Fields(keyValue, 2))
        {
            var input = new CodedInputStream(any);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                value = WireFormat.GetTagFieldNumber(tag) switch
                {
                    1 => input.ReadString(),
                    2 => input.ReadBool() ? "true" : "false",
                    3 => input.ReadInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
                    _ => Skip(input, value),
                };
            }
        }
        return (key, value);
    }

    private static string Skip(CodedInputStream input, string value)
    {
        input.SkipLastField();
        return value;
    }

    private static string Text(byte[] utf8) => System.Text.Encoding.UTF8.GetString(utf8);

    /// <summary>The length-delimited values of one field number in a message (embedded messages, strings, bytes).</summary>
    private static List<byte[]> Fields(byte[] message, int number)
    {
        var found = new List<byte[]>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                found.Add(input.ReadBytes().ToByteArray());
            else
                input.SkipLastField();
        }
        return found;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try { await _loop; } catch (Exception) { /* the listener's loop ends with the listener */ }
    }
}
