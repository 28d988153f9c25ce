using System.Text;
using EventSourcedRegistry.Api.Audit;

namespace EventSourcedRegistry.Api.Tests.Audit;

/// <summary>The CSV export's cell rule: RFC 4180 quoting, and OWASP's leading <c>'</c> before anything a spreadsheet runs.</summary>
public class when_writing_csv_cells
{
    private static string Cell(string? value)
    {
        var line = new StringBuilder();
        Csv.Append(line, value);
        return line.ToString();
    }

    [Theory]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("+1", "'+1")]
    [InlineData("-1", "'-1")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\t=1", "\"'\t=1\"")]
    [InlineData("\r=1", "\"'\r=1\"")]
    [InlineData("=A1,B1", "\"'=A1,B1\"")]
    [InlineData("=\"x\"", "\"'=\"\"x\"\"\"")]
    [InlineData("'=1", "''=1")]
    // Review of issue 13: where the list separator is ';' (or a tab on import) an unquoted cell splits there, and
    // the part after it starts a formula; quoted, it stays one text cell.
    [InlineData("ok;=cmd|' /C calc'!A0", "\"ok;=cmd|' /C calc'!A0\"")]
    [InlineData("ok\t=1+1", "\"ok\t=1+1\"")]
    [InlineData("''-1", "'''-1")]
    public void a_cell_a_spreadsheet_would_run_gets_a_leading_quote(string value, string cell) => Assert.Equal(cell, Cell(value));

    [Theory]
    [InlineData("", "")]
    [InlineData("'", "'")]
    [InlineData("'plain", "'plain")]
    [InlineData("a=1", "a=1")]
    [InlineData(" =1", " =1")]
    [InlineData("model \"x\"", "\"model \"\"x\"\"\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    public void any_other_cell_is_written_as_rfc_4180_has_it(string value, string cell) => Assert.Equal(cell, Cell(value));

    [Fact]
    public void a_missing_value_is_an_empty_cell() => Assert.Equal("", Cell(null));
}
