package deco_test

import (
	"errors"
	"fmt"

	"github.com/deco-go/deco"
)

// ErrNoStock is a sentinel that keeps its identity across processes.
var ErrNoStock = errors.New("example: out of stock")

// PriceError is an error type that crosses with its fields.
type PriceError struct {
	Item  string
	Cents int
}

func (e *PriceError) Error() string { return fmt.Sprintf("%s costs %d cents", e.Item, e.Cents) }

func init() {
	// At package level, so that every process of the program registers
	// them.
	deco.RegisterError(ErrNoStock)
	deco.RegisterErrorType[*PriceError]()
}

// order runs through viaBytes (map_test.go), the bytes a worker process
// would send back.
var order = deco.ConcurrentErr(func(item string) error {
	switch item {
	case "tea":
		return fmt.Errorf("ordering %s: %w", item, ErrNoStock)
	case "gold":
		return &PriceError{Item: item, Cents: 1e9}
	}
	return nil
}, deco.Name("ExampleRegisterError/order"), deco.On(viaBytes{}))

func ExampleRegisterError() {
	tea := order.Go("tea")
	order.Wait()
	_, err := tea.Wait()
	fmt.Println(err, errors.Is(err, ErrNoStock))
	// Output: ordering tea: example: out of stock true
}

func ExampleRegisterErrorType() {
	gold := order.Go("gold")
	order.Wait()
	_, err := gold.Wait()
	var pe *PriceError
	fmt.Println(errors.As(err, &pe), pe.Item, pe.Cents)
	// Output: true gold 1000000000
}
