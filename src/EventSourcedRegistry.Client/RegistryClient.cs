using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Contracts;
using EventSourcedRegistry.Contracts.V1;
using EventSourcedRegistry.Contracts.V1.Requests;

namespace EventSourcedRegistry.Client;

/// <summary>
/// A typed client of the registry's HTTP API (v1). Thread-safe; keep one per server (a singleton). Every
/// command carries an <c>Idempotency-Key</c> generated once per call, so the transient failures it retries
/// are answered from the server's idempotency store instead of being applied twice.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string ApiKeyVariable = "ESR_API_KEY";

    private static readonly JsonSerializerOptions JsonOptions = WireJson.Options;

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly Uri _endpoint;
    private readonly int _maxRetries;
    private readonly TimeSpan _retryDelay;
    private readonly string? _apiKey;
    private readonly string? _workspace;

    public RegistryClient(Uri endpoint) : this(new RegistryClientOptions { Endpoint = endpoint }) { }

    public RegistryClient(RegistryClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _ownsHttp = options.HttpClient is null;
        _http = options.HttpClient ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var endpoint = options.Endpoint ?? _http.BaseAddress
            ?? throw new ArgumentException("Set RegistryClientOptions.Endpoint (or the injected HttpClient's BaseAddress).", nameof(options));
        _endpoint = endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
        _maxRetries = Math.Max(0, options.MaxRetries);
        _retryDelay = options.RetryDelay;
        _apiKey = options.ApiKey ?? (Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key : null);
        _workspace = options.Workspace is { Length: > 0 } workspace ? workspace
            : Environment.GetEnvironmentVariable(WorkspaceVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
    }

    public const string WorkspaceVariable = "ESR_WORKSPACE";

    public Uri Endpoint => _endpoint;

    /// <summary>The workspace the calls address; null for <c>default</c> (unprefixed routes).</summary>
    public string? Workspace => _workspace;

    // Workspaces (the directory: outside every workspace)

    public Task<WorkspaceList> ListWorkspacesAsync(CancellationToken ct = default) =>
        SendAsync<WorkspaceList>(HttpMethod.Get, "api/v1/workspaces", ct: ct);

    public Task<WorkspaceInfo> CreateWorkspaceAsync(string slug, string displayName, CancellationToken ct = default) =>
        SendAsync<WorkspaceInfo>(HttpMethod.Post, "api/v1/workspaces", new CreateWorkspace(slug, displayName), ct: ct);

    public Task<WorkspaceInfo> GetWorkspaceAsync(string slug, CancellationToken ct = default) =>
        SendAsync<WorkspaceInfo>(HttpMethod.Get, $"api/v1/workspaces/{E(slug)}", ct: ct);

    public Task<WorkspaceInfo> RenameWorkspaceAsync(string slug, string displayName, string? reason = null, CancellationToken ct = default) =>
        SendAsync<WorkspaceInfo>(HttpMethod.Post, $"api/v1/workspaces/{E(slug)}/rename", new RenameWorkspace(displayName, reason), ct: ct);

    public Task<WorkspaceInfo> ArchiveWorkspaceAsync(string slug, string? reason = null, CancellationToken ct = default) =>
        SendAsync<WorkspaceInfo>(HttpMethod.Post, $"api/v1/workspaces/{E(slug)}/archive", new ArchiveWorkspace(reason), ct: ct);

    // Models

    public Task<ModelInfo> RegisterModelAsync(string name, string? description = null,
        IReadOnlyDictionary<string, string>? tags = null, CancellationToken ct = default) =>
        SendAsync<ModelInfo>(HttpMethod.Post, "api/v1/models", new RegisterModel(name, description, tags is null ? null : new Dictionary<string, string>(tags)), ct: ct);

    public Task<ModelInfo> GetModelAsync(string name, PointInTime? at = null, CancellationToken ct = default) =>
        SendAsync<ModelInfo>(HttpMethod.Get, $"api/v1/models/{E(name)}{Query(at?.Pairs())}", ct: ct);

    public Task<ModelPage> ListModelsAsync(string? prefix = null, string? stage = null, bool includeArchived = false,
        string? cursor = null, int? limit = null, CancellationToken ct = default) =>
        ListModelsAsync(new ModelQuery(prefix, stage, includeArchived, Cursor: cursor, Limit: limit), ct);

    /// <summary>One page of models by name; <see cref="ModelQuery.Tags"/> keeps models carrying every one of those tags.</summary>
    public Task<ModelPage> ListModelsAsync(ModelQuery query, CancellationToken ct = default) =>
        SendAsync<ModelPage>(HttpMethod.Get, "api/v1/models" + Query([("prefix", query.Prefix), ("stage", query.Stage),
            ("includeArchived", query.IncludeArchived ? "true" : null),
            .. (query.Tags ?? new Dictionary<string, string>()).Select(t => ("tag", (string?)$"{t.Key}:{t.Value}")),
            ("cursor", query.Cursor), ("limit", query.Limit?.ToString(CultureInfo.InvariantCulture))]), ct: ct);

    // Versions

    public Task<ModelVersionInfo> RegisterVersionAsync(string model, RegisterModelVersion request,
        long? ifRevision = null, CancellationToken ct = default) =>
        SendAsync<ModelVersionInfo>(HttpMethod.Post, $"api/v1/models/{E(model)}/versions", request, ifRevision, ct);

    public Task<ModelVersionInfo> GetVersionAsync(string model, int version, PointInTime? at = null, CancellationToken ct = default) =>
        SendAsync<ModelVersionInfo>(HttpMethod.Get, $"api/v1/models/{E(model)}/versions/{version}{Query(at?.Pairs())}", ct: ct);

    public Task<ModelVersionPage> ListVersionsAsync(string model, string? stage = null, PointInTime? at = null,
        string? cursor = null, int? limit = null, CancellationToken ct = default) =>
        SendAsync<ModelVersionPage>(HttpMethod.Get, $"api/v1/models/{E(model)}/versions" + Query([("stage", stage),
            ("cursor", cursor), ("limit", limit?.ToString(CultureInfo.InvariantCulture)), .. at?.Pairs() ?? []]), ct: ct);

    /// <summary>
    /// Moves a version to a stage. Into a protected stage (four-eyes approval) nothing moves yet: the registry records a
    /// transition request and this throws <see cref="ApprovalRequiredException"/> carrying it.
    /// </summary>
    public Task<ModelVersionInfo> TransitionStageAsync(string model, int version, string stage, string? reason = null,
        bool archiveExisting = false, long? ifRevision = null, CancellationToken ct = default) =>
        SendAsync<ModelVersionInfo>(HttpMethod.Post, $"api/v1/models/{E(model)}/versions/{version}/stage",
            new TransitionModelVersionStage(stage, reason, archiveExisting), ifRevision, ct, acceptedIsRequest: true);

    // Transition requests (four-eyes approval)

    /// <summary>One page of the model's transition requests, newest first; pass <c>NextCursor</c> back for the next.</summary>
    public Task<TransitionRequestList> ListRequestsAsync(string model, string? state = null, string? cursor = null, int? limit = null,
        CancellationToken ct = default) =>
        SendAsync<TransitionRequestList>(HttpMethod.Get,
            $"api/v1/models/{E(model)}/requests{Query([("state", state), ("cursor", cursor), ("limit", limit?.ToString(System.Globalization.CultureInfo.InvariantCulture))])}", ct: ct);

    public Task<TransitionRequestInfo> GetRequestAsync(string model, Guid id, CancellationToken ct = default) =>
        SendAsync<TransitionRequestInfo>(HttpMethod.Get, $"api/v1/models/{E(model)}/requests/{id}", ct: ct);

    /// <summary>Approves a request; <paramref name="sha256"/> is the artifact digest you reviewed (a different one is refused).</summary>
    public Task<TransitionRequestInfo> ApproveRequestAsync(string model, Guid id, string? sha256 = null, string? reason = null,
        CancellationToken ct = default) =>
        SendAsync<TransitionRequestInfo>(HttpMethod.Post, $"api/v1/models/{E(model)}/requests/{id}/approve", new ApproveTransitionRequest(sha256, reason), ct: ct);

    public Task<TransitionRequestInfo> RejectRequestAsync(string model, Guid id, string reason, CancellationToken ct = default) =>
        SendAsync<TransitionRequestInfo>(HttpMethod.Post, $"api/v1/models/{E(model)}/requests/{id}/reject", new RejectTransitionRequest(reason), ct: ct);

    // Aliases

    /// <summary>Points an alias at a version; a protected alias throws <see cref="ApprovalRequiredException"/> with the request.</summary>
    public Task<AliasInfo> SetAliasAsync(string model, string alias, int version, string? reason = null,
        long? ifRevision = null, CancellationToken ct = default) =>
        SendAsync<AliasInfo>(HttpMethod.Put, $"api/v1/models/{E(model)}/aliases/{E(alias)}", new AssignAlias(version, reason), ifRevision, ct,
            acceptedIsRequest: true);

    public Task RemoveAliasAsync(string model, string alias, string? reason = null, long? ifRevision = null, CancellationToken ct = default) =>
        SendAsync<JsonElement?>(HttpMethod.Delete, $"api/v1/models/{E(model)}/aliases/{E(alias)}{Query([("reason", reason)])}", null, ifRevision, ct);

    public Task<ModelVersionInfo> ResolveAliasAsync(string model, string alias, PointInTime? at = null, CancellationToken ct = default) =>
        SendAsync<ModelVersionInfo>(HttpMethod.Get, $"api/v1/models/{E(model)}/aliases/{E(alias)}{Query(at?.Pairs())}", ct: ct);

    // Deployments and history

    public Task<DeploymentInfo> ReportDeploymentAsync(string model, int version, string environment, string? target = null,
        bool undeployed = false, string? reason = null, CancellationToken ct = default) =>
        SendAsync<DeploymentInfo>(HttpMethod.Post, $"api/v1/models/{E(model)}/deployments",
            new ReportDeployment(version, environment, target, undeployed ? "undeployed" : "deployed", reason), ct: ct);

    public Task<HistoryPage> GetHistoryAsync(string model, string? cursor = null, int? limit = null, CancellationToken ct = default) =>
        SendAsync<HistoryPage>(HttpMethod.Get, $"api/v1/models/{E(model)}/history" +
            Query([("cursor", cursor), ("limit", limit?.ToString(CultureInfo.InvariantCulture))]), ct: ct);

    public Task<RegistryPage> GetRegistryAsync(PointInTime? at = null, string? cursor = null, int? limit = null, CancellationToken ct = default) =>
        SendAsync<RegistryPage>(HttpMethod.Get, "api/v1/registry" + Query([("cursor", cursor),
            ("limit", limit?.ToString(CultureInfo.InvariantCulture)), .. at?.Pairs() ?? []]), ct: ct);

    /// <summary>Stage, alias and deployment changes after <paramref name="from"/> up to <paramref name="to"/> (sequences or RFC 3339 instants).</summary>
    public Task<RegistryChangesPage> GetChangesAsync(string from, string? to = null, string? cursor = null, int? limit = null,
        CancellationToken ct = default) =>
        SendAsync<RegistryChangesPage>(HttpMethod.Get, "api/v1/registry/changes" + Query([("from", from), ("to", to),
            ("cursor", cursor), ("limit", limit?.ToString(CultureInfo.InvariantCulture))]), ct: ct);

    public Task<RollbackOutcome> RollbackAsync(string model, RollbackRequest request, CancellationToken ct = default) =>
        SendAsync<RollbackOutcome>(HttpMethod.Post, $"api/v1/models/{E(model)}/rollback", new RollBackModel(request.AsOf is { } instant ? Instants.Format(instant) : null,
            request.AtSequence, request.Reason, request.DryRun), ct: ct);

    // Audit

    public Task<AuditPage> QueryAuditAsync(AuditQuery? query = null, CancellationToken ct = default) =>
        SendAsync<AuditPage>(HttpMethod.Get, "api/v1/audit" + Query(AuditPairs(query ?? new AuditQuery())), ct: ct);

    /// <summary>Streams the whole filtered audit log as <c>ndjson</c> or <c>csv</c> into <paramref name="destination"/>.</summary>
    public async Task ExportAuditAsync(AuditQuery? query, string format, Stream destination, CancellationToken ct = default)
    {
        var accept = format.ToLowerInvariant() switch
        {
            "ndjson" => "application/x-ndjson",
            "csv" => "text/csv",
            _ => throw new ArgumentException("The export format is ndjson or csv.", nameof(format)),
        };
        var path = "api/v1/audit" + Query(AuditPairs((query ?? new AuditQuery()) with { Cursor = null, Limit = null }));
        using var response = await SendRawAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, UriOf(path));
            request.Headers.Accept.ParseAdd(accept);
            return request;
        }, HttpCompletionOption.ResponseHeadersRead, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await body.CopyToAsync(destination, ct);
    }

    /// <summary>Checks the hash chain incrementally, from the newest signed checkpoint.</summary>
    public Task<ChainVerification> VerifyAuditChainAsync(CancellationToken ct = default) => VerifyAuditChainAsync(full: false, ct);

    /// <summary>Checks the hash chain; <paramref name="full"/> recomputes it from its first link instead of the newest signed checkpoint.</summary>
    public Task<ChainVerification> VerifyAuditChainAsync(bool full, CancellationToken ct = default) =>
        SendAsync<ChainVerification>(HttpMethod.Get, full ? "api/v1/audit/verify?full=true" : "api/v1/audit/verify", ct: ct);

    // Artifacts

    /// <summary>
    /// Streams <paramref name="content"/> to the registry's artifact store, reporting the bytes sent so far. A seekable
    /// stream is rewound and sent again on a transient failure (an upload is idempotent: its key is its digest).
    /// </summary>
    public async Task<ArtifactInfo> UploadArtifactAsync(Stream content, string? fileName = null, string? sha256 = null,
        IProgress<long>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var start = content.CanSeek ? content.Position : 0;
        var attempts = 0;
        using var response = await SendRawAsync(() =>
        {
            if (attempts++ > 0)
            {
                if (!content.CanSeek) throw new InvalidOperationException("The upload failed and its stream cannot be rewound to retry.");
                content.Position = start;
            }
            var body = new ProgressContent(content, progress);
            body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            if (fileName is not null)
                body.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = fileName };
            var request = new HttpRequestMessage(HttpMethod.Post, UriOf("api/v1/artifacts")) { Content = body };
            if (sha256 is not null) request.Headers.Add("X-Content-SHA256", sha256);
            return request;
        }, HttpCompletionOption.ResponseContentRead, ct, retry: content.CanSeek);
        return (await response.Content.ReadFromJsonAsync<ArtifactInfo>(JsonOptions, ct))!;
    }

    /// <summary>
    /// Downloads a stored artifact into <paramref name="destination"/> and returns the bytes written. The server checks
    /// the bytes as it streams them; this checks them again as they arrive, against <paramref name="sha256"/>, since
    /// whatever sits between the two (a proxy, a cache, the network) is not the server, and throws
    /// <see cref="ArtifactDigestMismatchException"/> when they hash otherwise (the destination then holds bytes to discard).
    /// </summary>
    public async Task<long> DownloadArtifactAsync(string sha256, Stream destination, IProgress<long>? progress = null,
        CancellationToken ct = default)
    {
        using var response = await SendRawAsync(() => new HttpRequestMessage(HttpMethod.Get, UriOf($"api/v1/artifacts/{E(sha256)}")),
            HttpCompletionOption.ResponseHeadersRead, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            await destination.WriteAsync(buffer.AsMemory(0, read), ct);
            total += read;
            progress?.Report(total);
        }
        var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (!SameDigest(sha256, actual)) throw new ArtifactDigestMismatchException(sha256, actual, total);
        return total;
    }

    // The digest as asked for, in either way a digest is written (hex, or "sha256:" and hex): a comparison, not a parser.
    private static bool SameDigest(string asked, string actualHex) =>
        string.Equals(asked, actualHex, StringComparison.OrdinalIgnoreCase)
        || string.Equals(asked, "sha256:" + actualHex, StringComparison.OrdinalIgnoreCase);

    /// <summary>The size of a stored artifact, or null if the store does not hold it.</summary>
    public async Task<long?> GetArtifactSizeAsync(string sha256, CancellationToken ct = default)
    {
        try
        {
            using var response = await SendRawAsync(() => new HttpRequestMessage(HttpMethod.Head, UriOf($"api/v1/artifacts/{E(sha256)}")),
                HttpCompletionOption.ResponseHeadersRead, ct);
            return response.Content.Headers.ContentLength;
        }
        catch (RegistryRequestException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public Task<ArtifactVerification> VerifyArtifactAsync(string sha256, CancellationToken ct = default) =>
        SendAsync<ArtifactVerification>(HttpMethod.Get, $"api/v1/artifacts/{E(sha256)}/verify", ct: ct);

    // API keys (admin)

    /// <summary>Creates a key for <paramref name="owner"/> (the person or service it belongs to); the answer is the only time the registry shows it.</summary>
    public Task<CreatedApiKey> CreateKeyAsync(string name, string owner, IReadOnlyList<ApiKeyGrant> grants, CancellationToken ct = default) =>
        SendAsync<CreatedApiKey>(HttpMethod.Post, "api/v1/admin/keys",
            new CreateApiKey(name, owner, grants.Select(g => (GrantRequest?)new GrantRequest(g.Role, g.Model)).ToList()), ct: ct);

    public Task<ApiKeyList> ListKeysAsync(CancellationToken ct = default) =>
        SendAsync<ApiKeyList>(HttpMethod.Get, "api/v1/admin/keys", ct: ct);

    public Task<ApiKeyInfo> RevokeKeyAsync(string id, CancellationToken ct = default) =>
        SendAsync<ApiKeyInfo>(HttpMethod.Delete, $"api/v1/admin/keys/{E(id)}", ct: ct);

    /// <summary>
    /// Any call as raw JSON (for scripts that want the server's exact answer): a GET, or a command with a JSON body.
    /// </summary>
    public Task<JsonElement?> SendJsonAsync(HttpMethod method, string path, object? body = null, CancellationToken ct = default) =>
        SendAsync<JsonElement?>(method, path.TrimStart('/'), body, ct: ct);

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }

    // Plumbing

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body = null, long? ifRevision = null,
        CancellationToken ct = default, bool acceptedIsRequest = false)
    {
        // One key per logical call: every retry of this call sends the same key, so the server applies it once.
        var key = method == HttpMethod.Get ? null : Guid.NewGuid().ToString("N");
        var json = body is null ? null : JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), JsonOptions);
        using var response = await SendRawAsync(() =>
        {
            var request = new HttpRequestMessage(method, UriOf(path));
            if (json is not null)
                request.Content = new ByteArrayContent(json) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
            if (key is not null) request.Headers.Add(IdempotencyKeyHeader, key);
            if (ifRevision is { } revision) request.Headers.IfMatch.Add(new EntityTagHeaderValue($"\"{revision}\""));
            return request;
        }, HttpCompletionOption.ResponseContentRead, ct);
        if (response.StatusCode == HttpStatusCode.NoContent || response.Content.Headers.ContentLength == 0) return default!;
        // 202 from a stage move or an alias assignment: a transition request was recorded instead of the move.
        if (acceptedIsRequest && response.StatusCode == HttpStatusCode.Accepted)
            throw new ApprovalRequiredException((await response.Content.ReadFromJsonAsync<TransitionRequestInfo>(JsonOptions, ct))!);
        return (await response.Content.ReadFromJsonAsync<T>(JsonOptions, ct))!;
    }

    private async Task<HttpResponseMessage> SendRawAsync(Func<HttpRequestMessage> create, HttpCompletionOption completion,
        CancellationToken ct, bool retry = true)
    {
        for (var attempt = 0; ; attempt++)
        {
            var canRetry = retry && attempt < _maxRetries;
            HttpResponseMessage response;
            using (var request = create())
            {
                if (_apiKey is not null && request.Headers.Authorization is null)
                    request.Headers.Authorization = new AuthenticationHeaderValue("ApiKey", _apiKey);
                try
                {
                    response = await _http.SendAsync(request, completion, ct);
                }
                catch (Exception e) when (canRetry && !ct.IsCancellationRequested && e is HttpRequestException or TaskCanceledException or IOException)
                {
                    await Task.Delay(DelayOf(attempt, null), ct);
                    continue;
                }
            }
            if (response.IsSuccessStatusCode) return response;
            if (canRetry && IsTransient(response.StatusCode))
            {
                var delay = DelayOf(attempt, response.Headers.RetryAfter);
                response.Dispose();
                await Task.Delay(delay, ct);
                continue;
            }
            using (response) throw await ProblemOf(response, ct);
        }
    }

    private static bool IsTransient(HttpStatusCode status) => status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
        or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    private TimeSpan DelayOf(int attempt, RetryConditionHeaderValue? retryAfter)
    {
        if (retryAfter?.Delta is { } delta) return delta < TimeSpan.FromSeconds(30) ? delta : TimeSpan.FromSeconds(30);
        return _retryDelay * Math.Pow(2, attempt);
    }

    private static async Task<RegistryRequestException> ProblemOf(HttpResponseMessage response, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        var correlation = response.Headers.TryGetValues("X-Correlation-Id", out var values) ? values.FirstOrDefault() : null;
        string? title = response.ReasonPhrase, detail = null, type = null;
        Dictionary<string, string[]>? errors = null;
        try
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (text.Length > 0 && JsonDocument.Parse(text).RootElement is { ValueKind: JsonValueKind.Object } problem)
            {
                title = String(problem, "title") ?? title;
                detail = String(problem, "detail");
                type = String(problem, "type");
                if (problem.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Object)
                    errors = e.Deserialize<Dictionary<string, string[]>>(JsonOptions);
            }
        }
        catch (JsonException)
        {
            // Not ProblemDetails (a proxy's error page, say): status and reason phrase are all there is.
        }
        return new RegistryRequestException(status, title, detail, type, errors, correlation);
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string E(string segment) => Uri.EscapeDataString(segment);

    /// <summary>A route of the API (<c>api/v1/…</c>) in the client's workspace; the directory's routes and other paths as they are.</summary>
    private Uri UriOf(string path) =>
        new(_endpoint, _workspace is null || !path.StartsWith("api/v1/", StringComparison.Ordinal) || path.StartsWith("api/v1/workspaces", StringComparison.Ordinal)
            ? path
            : $"api/v1/workspaces/{E(_workspace)}/{path["api/v1/".Length..]}");

    private static IEnumerable<(string, string?)> AuditPairs(AuditQuery query) =>
    [
        ("actor", query.Actor), ("model", query.Model), ("from", query.From), ("to", query.To), ("cursor", query.Cursor),
        ("limit", query.Limit?.ToString(CultureInfo.InvariantCulture)),
        .. (query.Types ?? []).Select(t => ("type", (string?)t)),
    ];

    private static string Query(IEnumerable<(string Key, string? Value)>? pairs)
    {
        var builder = new StringBuilder();
        foreach (var (key, value) in pairs ?? [])
        {
            if (value is null) continue;
            builder.Append(builder.Length == 0 ? '?' : '&').Append(key).Append('=').Append(Uri.EscapeDataString(value));
        }
        return builder.ToString();
    }

    /// <summary>Streams a body and reports the bytes sent so far.</summary>
    private sealed class ProgressContent(Stream source, IProgress<long>? progress) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var buffer = new byte[81920];
            long sent = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                sent += read;
                progress?.Report(sent);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = source.CanSeek ? source.Length - source.Position : -1;
            return source.CanSeek;
        }
    }
}
