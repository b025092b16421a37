// Package variable holds the rules of task variables shared by the server
// and the agent: which names a variable may have ([CheckName]), the
// service message a step prints to set an output variable ([Parse]), and
// the masking of sensitive values in output ([Masker], [Stream]).
//
// # Flow
//
// A task's and its steps' variables reach a step's script as environment
// variables under their own names. A step sets an output variable by
// printing one line:
//
//	##dynpool[setVariable name='ARCHIVE_SHA' value='3f2a…' sensitive='false']
//
// The agent forwards the line; the server records the variable for the
// steps after this one and shows "Output variable ARCHIVE_SHA set" in the
// task log instead of the line. Every output line, on the agent (across
// its 64 KiB line splits, see [Stream]) and again on the server, has the
// task's sensitive values replaced by [Mask].
package variable
