namespace EventSourcedRegistry.Api.Webhooks;

/// <summary><c>Registry:Webhooks</c>: the delivery's timeouts, retries and the targets allowed beside public addresses.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Registry:Webhooks";

    /// <summary>Runs the dispatcher on this node (on the one that leads); <c>false</c>: this node never delivers.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Host names, IP addresses and CIDR ranges the registry may call although they are not public (see <see cref="AllowedTargets"/>).</summary>
    public string? AllowedTargets { get; set; }

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The whole call: connect, send, and the receiver's answer's headers.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a delivery is retried before it is dead-lettered and the subscription moves on.</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromHours(24);

    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The cap of the backoff's ceiling. 30 s: a receiver back from an outage of any length gets its held deliveries within
    /// 30 s (15 s on average, with full jitter), where a cap of an hour could keep it waiting most of an hour; a failing
    /// receiver costs the registry one attempt per subscription every 15 s on average meanwhile.
    /// </summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often the leading node looks for events to deliver when nothing wakes it: with <see cref="Listen"/> on, each
    /// append's notification wakes it at once and the poll only makes up for notifications lost (a broken connection).
    /// </summary>
    public TimeSpan Poll { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Whether the leading node LISTENs for the appends' notifications (one connection of its own). <c>false</c>: it only polls,
    /// for a connection path that cannot hold a LISTEN (a pooler in transaction mode).
    /// </summary>
    public bool Listen { get; set; } = true;

    /// <summary>The most bytes of a receiver's answer read (for the error it shows); the rest is never read.</summary>
    public const int MaxAnswerBytes = 1024;

    public static WebhookOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<WebhookOptions>() ?? new WebhookOptions();
        foreach (var (name, value) in new[] { ("ConnectTimeout", options.ConnectTimeout), ("Timeout", options.Timeout), ("RetryFor", options.RetryFor),
                     ("InitialBackoff", options.InitialBackoff), ("MaxBackoff", options.MaxBackoff), ("Poll", options.Poll) })
            if (value <= TimeSpan.Zero) throw new InvalidOperationException($"{Section}:{name} must be positive; it is {value:c}.");
        Webhooks.AllowedTargets.Parse(options.AllowedTargets);
        return options;
    }
}
