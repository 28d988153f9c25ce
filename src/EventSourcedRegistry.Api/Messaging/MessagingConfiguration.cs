using Marten;
using Wolverine;
using Wolverine.Marten;

namespace EventSourcedRegistry.Api.Messaging;

/// <summary>
/// <c>Registry:Messaging</c>: Wolverine's durable messaging on the registry's own PostgreSQL. Background work (checkpoint
/// signing, the registry-wide rollback, projection rebuilds) runs as messages Wolverine stores before it handles them, so a
/// node that dies leaves its work to another node instead of losing it.
/// </summary>
public sealed class MessagingOptions
{
    public const string Section = "Registry:Messaging";

    /// <summary>Wolverine's tables (envelopes, nodes, leadership) live in this schema, beside the registry's.</summary>
    public const string SchemaName = "wolverine";

    /// <summary>
    /// On by default. <c>false</c> keeps every message in the memory of the node that sent it (nothing survives a restart,
    /// every node runs the scheduled jobs); only for a throwaway single node.
    /// </summary>
    public bool Durable { get; set; } = true;

    /// <summary>How often due scheduled messages and stranded messages of dead nodes are looked for.</summary>
    public TimeSpan PollingInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often each node writes its heartbeat and the nodes elect a leader (which assigns the durability agent and the
    /// scheduled jobs to one node).
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a node goes without a heartbeat before it counts as dead and its agents move to another node. With the
    /// defaults a killed leader's work resumes on another node within about 30 s (two stale readings, then the next heartbeat).
    /// </summary>
    public TimeSpan StaleNodeAfter { get; set; } = TimeSpan.FromSeconds(15);

    public static MessagingOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<MessagingOptions>() ?? new MessagingOptions();
        foreach (var (name, value) in new[] { (nameof(PollingInterval), options.PollingInterval), (nameof(HeartbeatInterval), options.HeartbeatInterval),
                     (nameof(StaleNodeAfter), options.StaleNodeAfter) })
            if (value <= TimeSpan.Zero) throw new InvalidOperationException($"{Section}:{name} must be positive.");
        return options;
    }
}

/// <summary>
/// The one place Wolverine's messaging is configured: its store (Marten's integration, so a message is stored in the same
/// transaction as the events that cause it), durable local queues, and the durability agent's timings.
/// </summary>
public static class MessagingConfiguration
{
    /// <summary>Marten's side: Wolverine's envelope tables in their own schema of the registry's database.</summary>
    public static MartenServiceCollectionExtensions.MartenConfigurationExpression AddRegistryMessaging(
        this MartenServiceCollectionExtensions.MartenConfigurationExpression marten, MessagingOptions options)
    {
        // Off: no message store at all, Wolverine keeps messages in memory (and has no leader, so each node runs every job).
        if (!options.Durable) return marten;
        // Wolverine reads and writes through Marten's data source, so its connections carry the registry's tuning (UTC,
        // custom plans) as every other statement does.
        return marten.IntegrateWithWolverine(integration => integration.MessageStorageSchemaName = MessagingOptions.SchemaName);
    }

    /// <summary>Wolverine's side: durable local queues and the durability agent's timings.</summary>
    public static WolverineOptions ConfigureRegistryMessaging(this WolverineOptions wolverine, MessagingOptions options)
    {
        // Every message a node sends to itself is stored before it is handled, and handled by some node even if this one dies.
        wolverine.Policies.UseDurableLocalQueues();
        // Balanced (Wolverine's default): the nodes elect a leader by an advisory lock, and the leader gives the durability
        // agent (scheduled messages, recovery of a dead node's messages) and each scheduled job to exactly one node.
        wolverine.Durability.Mode = DurabilityMode.Balanced;
        wolverine.Durability.ScheduledJobPollingTime = options.PollingInterval;
        wolverine.Durability.ScheduledJobFirstExecution = TimeSpan.Zero;
        wolverine.Durability.NodeReassignmentPollingTime = options.PollingInterval;
        wolverine.Durability.OrphanedMessageSweepPollingTime = options.PollingInterval;
        wolverine.Durability.HealthCheckPollingTime = options.HeartbeatInterval;
        // The first election at once, not after Wolverine's default 3 s: a node starting alone takes the work at once.
        wolverine.Durability.FirstHealthCheckExecution = TimeSpan.Zero;
        wolverine.Durability.StaleNodeTimeout = options.StaleNodeAfter;
        wolverine.Durability.CheckAssignmentPeriod = options.HeartbeatInterval;
        return wolverine;
    }
}
