namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>
/// How many commands on one model a node lets reach PostgreSQL at once. The stream's row lock already makes commands on
/// one model take turns (on every node); this only keeps the ones waiting for it from each holding a pooled connection.
/// Without it, a burst on one busy model larger than the pool (100) took every connection, blocked on that one row, and
/// the burst's surplus and every other model's requests waited for a connection behind it (15 s, then 503). With two in turn, one
/// holds the lock and one waits on it in PostgreSQL, so the next starts as soon as the lock is released (no round trip
/// more on the serial path than the lock alone); the rest wait here, without a connection.
/// Our own: Wolverine's per-key sequential processing applies to messages, not to HTTP requests, and .NET has no keyed
/// async lock.
/// </summary>
public sealed class ModelTurns
{
    public const int PerModel = 2;

    private readonly Dictionary<Guid, Gate> _gates = new();
    private int _waiting;

    /// <summary>Commands of this node waiting for a turn on their model (not yet sent to PostgreSQL).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Waits for a turn on the model; the turn ends when the returned value is disposed.</summary>
    public async ValueTask<Turn> Take(Guid modelId, CancellationToken ct)
    {
        Gate gate;
        lock (_gates)
        {
            if (!_gates.TryGetValue(modelId, out gate!)) _gates[modelId] = gate = new Gate();
            gate.Users++;
        }
        if (!gate.Slots.Wait(0))
        {
            Interlocked.Increment(ref _waiting);
            try { await gate.Slots.WaitAsync(ct); }
            catch
            {
                Leave(modelId, gate, release: false);
                throw;
            }
            finally { Interlocked.Decrement(ref _waiting); }
        }
        return new Turn(this, modelId, gate);
    }

    private void Leave(Guid modelId, Gate gate, bool release)
    {
        if (release) gate.Slots.Release();
        lock (_gates)
        {
            if (--gate.Users == 0) _gates.Remove(modelId);
        }
    }

    internal sealed class Gate
    {
        public readonly SemaphoreSlim Slots = new(PerModel, PerModel);
        public int Users;
    }

    public readonly struct Turn : IDisposable
    {
        private readonly ModelTurns _turns;
        private readonly Guid _modelId;
        private readonly Gate _gate;

        internal Turn(ModelTurns turns, Guid modelId, Gate gate) => (_turns, _modelId, _gate) = (turns, modelId, gate);

        public void Dispose() => _turns.Leave(_modelId, _gate, release: true);
    }
}
