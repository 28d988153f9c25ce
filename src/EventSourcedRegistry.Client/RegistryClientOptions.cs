namespace EventSourcedRegistry.Client;

/// <summary>Where the registry is and how hard to try; shaped like the Azure SDK's client options.</summary>
public sealed class RegistryClientOptions
{
    /// <summary>The server's base address, e.g. <c>http://localhost:5000</c>. Defaults to the injected client's base address.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>How many times a transient failure (connection error, timeout, 408, 429, 502, 503, 504) is retried.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The first retry's delay; each further retry waits twice as long (a server's Retry-After wins).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The API key every call sends (<c>Authorization: ApiKey &lt;key&gt;</c>); defaults to the <c>ESR_API_KEY</c>
    /// environment variable. Null (and no variable) sends no credentials: then every call but health is 401.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// The workspace every call addresses (<c>/api/v1/workspaces/{workspace}/…</c>); defaults to the <c>ESR_WORKSPACE</c>
    /// environment variable. Null (and no variable) addresses the <c>default</c> workspace through the unprefixed routes.
    /// The workspace directory's own calls (<see cref="RegistryClient.ListWorkspacesAsync"/> and the like) never take it.
    /// </summary>
    public string? Workspace { get; set; }

    /// <summary>An HttpClient to send through (tests, custom handlers, proxies); the client does not dispose it.</summary>
    public HttpClient? HttpClient { get; set; }
}
