HEADER = """strings.render_template (extension): Go text/template on Rego values as OPA converts them."""
def c(note, t, v, strict=False):
    return {"note": note, "rego": "x := strings.render_template(input.t, input.v)", "input": {"t": t, "v": v}, "strict": strict}
CASES = [
 c("a string", "{{.test}}", {"test": "hello world"}),
 c("a number prints as written", "{{.test}}", {"test": 2023}),
 c("range with index and value, if", "{{range $i, $name := .hellonames}}{{if $i}},{{end}}hello {{$name}}{{end}}", {"hellonames": ["rohan", "john doe"]}),
 c("a missing key is <undefined>", "test {{.foo}} {{.bar}} {{.baz}}", {"baz": 1}),
 c("arrays, objects and null", "{{.a}} {{.b}} {{.c}}", {"a": [1, "x", True, None], "b": {"k": 1, "j": [2]}, "c": None}),
 c("range over an object goes in key order", "{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}", {"m": {"b": 2, "a": 1, "c": 3}}),
 c("nested fields", "{{.a.b.c}}", {"a": {"b": {"c": "deep"}}}),
 c("else if with string comparison", "{{if eq .s \"x\"}}x{{else if eq .s \"y\"}}y{{else}}other{{end}}", {"s": "y"}),
 c("with, else, trimming and comments", "{{with .a}}{{.}}{{else}}none{{end}} {{- .b -}} ! {{/* c */}}", {"a": "", "b": " y "}),
 c("functions: len, index, printf, html, js, urlquery", "{{len .a}} {{index .a 1}} {{printf \"%s-%v\" .s .a}} {{html .h}} {{js .h}} {{urlquery .h}}", {"a": [1, 2, 3], "s": "x", "h": "<a&b>"}),
 c("numbers are always true and not integers to printf", "{{and .a .b}} {{not .a}} {{printf \"%d\" .a}}", {"a": 0, "b": "x"}),
 c("variables, break and continue", "{{$x := 1}}{{$x = 2}}{{$x}} {{range $i, $v := .a}}{{if eq $i 1}}{{continue}}{{end}}{{if eq $i 3}}{{break}}{{end}}{{$v}}{{end}}", {"a": ["a", "b", "c", "d"]}),
 c("a number compared with an integer literal is an error", "{{if eq .n 2}}two{{end}}", {"n": 3}, strict=True),
 c("an unclosed action is an error", "{{", {}, strict=True),
 c("an unknown function is an error", "{{nofunc 1}}", {}, strict=True),
 c("printf: widths, flags and Go's error forms, shared with sprintf", "{{printf \"%5s|%-4s|%05d|%+d|%8.3f|%x\" .s .s 42 5 3.14159 \"hi\"}} {{printf \"%d %d\" 1}} {{printf \"%d\" 1 2}}", {"s": "ab"}),
 c("printf: Go's types of template values", "{{printf \"%T %T %T %T %T %T\" .n .s .b .a .m .z}} {{printf \"%d|%d|%d|%s\" .n .b .z .z}}", {"n": 255, "s": "ab", "b": True, "a": [1], "m": {"k": 1}, "z": None}),
 c("printf: slices and maps element by element, nil inside them", "{{printf \"%q\" .a}} {{printf \"%d\" .m}} {{printf \"%v\" .missing}}", {"a": [1, "x", [2, {"k": None}], True], "m": {"b": [1], "a": "s"}}),
]
