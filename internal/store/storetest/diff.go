package storetest

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// diff describes how got differs from want, one line per difference, or
// returns "". Times compare with time.Equal, and a time in got must be in
// UTC, as every store returns them.
func diff(got, want any) string {
	var b strings.Builder
	diffValue(&b, "", reflect.ValueOf(got), reflect.ValueOf(want))
	return b.String()
}

func diffValue(b *strings.Builder, path string, got, want reflect.Value) {
	if got.IsValid() != want.IsValid() {
		fmt.Fprintf(b, "%s: got %v, want %v\n", path, got, want)
		return
	}
	if !got.IsValid() {
		return
	}
	if got.Type() == timeType {
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		if !g.Equal(w) {
			fmt.Fprintf(b, "%s: got %v, want %v\n", path, g, w)
		} else if g.Location() != time.UTC {
			fmt.Fprintf(b, "%s: got location %v, want UTC\n", path, g.Location())
		}
		return
	}
	switch got.Kind() {
	case reflect.Pointer:
		switch {
		case got.IsNil() && want.IsNil():
		case got.IsNil() || want.IsNil():
			fmt.Fprintf(b, "%s: got %s, want %s\n", path, show(got), show(want))
		default:
			diffValue(b, path, got.Elem(), want.Elem())
		}
	case reflect.Struct:
		for i := range got.NumField() {
			diffValue(b, path+"."+got.Type().Field(i).Name, got.Field(i), want.Field(i))
		}
	case reflect.Slice:
		if got.Len() != want.Len() {
			fmt.Fprintf(b, "%s: got %d elements, want %d\n", path, got.Len(), want.Len())
			return
		}
		for i := range got.Len() {
			diffValue(b, fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i))
		}
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			fmt.Fprintf(b, "%s: got %#v, want %#v\n", path, got.Interface(), want.Interface())
		}
	}
}

// show prints a pointer as nil or as what it points to.
func show(v reflect.Value) string {
	if v.IsNil() {
		return "nil"
	}
	return fmt.Sprintf("%v", v.Elem().Interface())
}
