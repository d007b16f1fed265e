HEADER = """sprintf as OPA answers it: Go's fmt.Sprintf on OPA's operands (int64, *big.Int, float64, string;
other values as their Rego text). src/builtins/sprintf.rs overrides regorus', which fails the call
on the verbs, flags and operand kinds it lacks."""
def c(note, fmt, args, inp=None):
    d = {"note": note, "rego": 'x := sprintf(%s, %s)' % (fmt, args), "overrides": True}
    if inp is not None: d["input"] = inp
    return d
CASES = [
 c("a number through %s: Go's error form, and the message is still made", '"user %s is blocked"', '[input.id]', {"id": 42}),
 c("a deny message with a numeric id fires as in OPA", '"order %v of %s"', '[input.order, input.user]', {"order": 7, "user": "ann"}),
 c("%d of a negative integer", '"%d"', '[-2]'),
 c("width, left alignment and precision", '"|%5s|%-5s|%.2s|%8.3f|%-8.3f|"', '["ab", "ab", "abc", 3.14159, 3.14159]'),
 c("signs and zero padding", '"%+d % d %05d %+.1f"', '[5, 5, -42, 2.25]'),
 c("bases and characters", '"%x %X %o %O %b %c %q %U %#x %#o"', '[255, 255, 8, 8, 5, 65, 65, 65, 255, 8]'),
 c("exponent and shortest forms", '"%e %E %.2e %g %G %.3g %v"', '[1234.5678, 1234.5678, 1234.5678, 1234.5678, 0.00001234, 1234.5678, 0.000001]'),
 c("strings quoted and in hex", '"%q %x % x %X"', '["hé\\n", "hi", "hi", "hi"]'),
 c("integers beyond 64 bits", '"%v %d %s %x"', '[12345678901234567890123, 12345678901234567890123, 12345678901234567890123, 12345678901234567890123]'),
 c("collections and other values are their Rego text", '"%v|%s|%d|%v|%v"', '[[1, "a"], {"a": 1}, {1}, true, null]'),
 c("type names", '"%T %T %T %T %T"', '[1, 1.5, "s", true, 12345678901234567890123]'),
 c("a verb for the wrong kind keeps the directive's width", '"%t|%5f|%d"', '[true, 1, "a"]'),
 c("missing and extra operands", '"%d %d|"', '[1]'),
 c("an extra operand", '"%d"', '[1, "two"]'),
 c("no verb after the last percent", '"100%"', '[1]'),
 c("star width and argument indexes", '"%*d|%[2]d %[1]d"', '[5, 1]'),
 c("percent signs", '"%d%% of %v"', '[50, "all"]'),
]
