"""portless.runtime: the public API for node types and plugins.

A plugin imports only from here: ``from portless.runtime import Node, Message``.
"""

from .async_input import AsyncInput, WhenFull
from .atomic import atomic_write
from .canonical import canonical_text
from .context import Context
from .deploy import DeployOutcome, DeployService, Gate
from .engine import DeployReport, Engine
from .errors import FlowError, FlowInvalid, RegistryError
from .events import Event, EventBus
from .expressions import JSONATA_KEYWORD, Expression, ExpressionError
from .flow import Flow, NodeSpec, check_flow, load_flow, read_flow, write_flow
from .form_conditions import fields_are
from .message import MISSING, Message, clone_message, make_message, new_msgid
from .node import (
    MAX_OUTPUTS,
    Node,
    OutputCountError,
    PlacedNode,
    default_outputs,
    outputs_of,
)
from .outputs import config_outputs
from .properties import (
    PropertyPath,
    delete_property,
    get_property,
    property_getter,
    set_property,
)
from .python_code import (
    PYTHON_KEYWORD,
    PYTHON_SCRIPT_KEYWORD,
    code_failure,
    compile_body,
    compile_script,
)
from .regex import compile_regex
from .registry import Registry
from .safe_json import JsonProblems
from .safe_json import loads as safe_json_loads
from .schedule import CronSchedule, time_zone
from .subflow import SUBFLOW_PREFIX, SubflowDefinition, SubflowInstance, SubflowNode
from .subflow_files import SubflowLibrary, load_subflows, subflow_dirs
from .typed_value import TypedValue, typed_value_schema
from .watchers import Watch, WatchKind, WatchScope

__all__ = [
    "JSONATA_KEYWORD",
    "MAX_OUTPUTS",
    "MISSING",
    "PYTHON_KEYWORD",
    "PYTHON_SCRIPT_KEYWORD",
    "SUBFLOW_PREFIX",
    "AsyncInput",
    "Context",
    "CronSchedule",
    "DeployOutcome",
    "DeployReport",
    "DeployService",
    "Engine",
    "Event",
    "EventBus",
    "Expression",
    "ExpressionError",
    "Flow",
    "FlowError",
    "FlowInvalid",
    "Gate",
    "JsonProblems",
    "Message",
    "Node",
    "NodeSpec",
    "OutputCountError",
    "PlacedNode",
    "PropertyPath",
    "Registry",
    "RegistryError",
    "SubflowDefinition",
    "SubflowInstance",
    "SubflowLibrary",
    "SubflowNode",
    "TypedValue",
    "Watch",
    "WatchKind",
    "WatchScope",
    "WhenFull",
    "atomic_write",
    "canonical_text",
    "check_flow",
    "clone_message",
    "code_failure",
    "compile_body",
    "compile_regex",
    "compile_script",
    "config_outputs",
    "default_outputs",
    "delete_property",
    "fields_are",
    "get_property",
    "load_flow",
    "load_subflows",
    "make_message",
    "new_msgid",
    "outputs_of",
    "property_getter",
    "read_flow",
    "safe_json_loads",
    "set_property",
    "subflow_dirs",
    "time_zone",
    "typed_value_schema",
    "write_flow",
]
