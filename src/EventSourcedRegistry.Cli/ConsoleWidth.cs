using System.Globalization;
using Spectre.Console;

namespace EventSourcedRegistry.Cli;

/// <summary>
/// How wide esr draws tables and help. Spectre.Console takes the terminal's width, and 80 columns when there is no
/// terminal to ask, so piped output (a CI log, <c>| grep</c>, <c>&gt; file</c>) wrapped every row at 80 and ignored
/// <c>COLUMNS</c>. Now <c>COLUMNS</c>, when set to a positive number, is the width, terminal or not; otherwise a terminal's
/// own width; otherwise, piped, rows are as long as their content (nothing wraps), so one line is one row.
/// </summary>
public static class ConsoleWidth
{
    public const string ColumnsVariable = "COLUMNS";

    /// <summary>Wide enough that no row esr prints wraps, without being a width Spectre would pad anything to.</summary>
    public const int Unwrapped = 10_000;

    /// <summary>The width to draw at, or null for the terminal's own.</summary>
    public static int? Of(string? columns, bool isTerminal) =>
        int.TryParse(columns, NumberStyles.None, CultureInfo.InvariantCulture, out var width) && width > 0 ? width
        : isTerminal ? null
        : Unwrapped;

    /// <summary>Sets <paramref name="console"/>'s width by <see cref="Of"/>; returns it.</summary>
    public static IAnsiConsole Apply(IAnsiConsole console, string? columns, bool isTerminal)
    {
        if (Of(columns, isTerminal) is { } width) console.Profile.Width = width;
        return console;
    }
}
