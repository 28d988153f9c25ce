using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace EventSourcedRegistry.CrashTests.Support;

/// <summary>
/// A scenario's figures, printed whether it passes or fails: to the test's output (the TRX holds it), to the console,
/// and appended to the file named by <c>ESR_CRASH_FIGURES</c> (CI prints that file, so the figures show in its log).
/// </summary>
public sealed class Figures(string scenario, ITestOutputHelper output)
{
    public const string FileVariable = "ESR_CRASH_FIGURES";
    private readonly List<(string Name, string Value)> _lines = [];

    public void Add(string name, object value) =>
        _lines.Add((name, value switch
        {
            TimeSpan t => t.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s",
            IEnumerable<TimeSpan> ts => string.Join(", ", ts.Select(t => t.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s")),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        }));

    public void Add(Verdict verdict)
    {
        Add("acknowledged", verdict.Acknowledged);
        Add("  of which answered by an idempotent replay", verdict.Replayed);
        Add("lost (must be 0)", verdict.Lost);
        Add("duplicated (must be 0)", verdict.Duplicated);
        Add("version gaps (must be 0)", verdict.Gaps);
        Add("versions stored", verdict.Stored);
        Add("in doubt at the end (unanswered): stored / not stored", $"{verdict.InDoubtStored} / {verdict.InDoubtAbsent}");
        Add("events in the store", verdict.EventsInStore);
    }

    public void Add(HookVerdict hooks)
    {
        Add("webhook: events the subscription matches / delivered", $"{hooks.Expected} / {hooks.Delivered}");
        Add("webhook: not delivered, delivered but not matched (must be 0)", $"{hooks.Missing}, {hooks.Unexpected}");
        Add("webhook: bad delivery ids, bad signatures, order breaks per model (must be 0)", $"{hooks.BadIds}, {hooks.BadSignatures}, {hooks.OrderBreaks}");
        Add("webhook: answered duplicates (same delivery id)", hooks.Duplicates);
    }

    public void Print(string outcome)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"crash suite: {scenario} ({outcome})");
        var width = _lines.Count == 0 ? 0 : _lines.Max(l => l.Name.Length);
        foreach (var (name, value) in _lines) text.AppendLine(CultureInfo.InvariantCulture, $"  {name.PadRight(width)}  {value}");
        var block = text.ToString();

        output.WriteLine(block);
        Console.WriteLine(block);
        if (Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } path)
        {
            // Scenarios may run in parallel: one append per block, under an exclusive lock on the file.
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.None);
                    using var writer = new StreamWriter(file);
                    writer.Write(block);
                    return;
                }
                catch (IOException) when (attempt < 50)
                {
                    Thread.Sleep(100);
                }
            }
        }
    }
}
